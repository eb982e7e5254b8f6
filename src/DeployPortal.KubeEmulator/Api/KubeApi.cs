using System.Text.Json;
using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Logs;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>Maps Kubernetes REST paths to the store: get, list, watch, create, update, patch/apply, delete, delete-collection.</summary>
internal sealed class KubeApi(Resources resources, WatchStream watches, TimeProvider time, LogStreamer logs)
{
    private static readonly byte[] ApplicationJson = "application/json"u8.ToArray();
    private readonly ScaleSubresource _scales = new(resources);
    private ObjectStore Store => resources.Store;

    public async Task HandleAsync(HttpContext ctx)
    {
        try
        {
            var segments = ctx.Request.Path.Value!.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (await TryDiscoveryAsync(ctx, segments))
            {
                return;
            }

            if (ctx.Request.Method == "POST" && segments is ["apis", var group, "v1", var plural] && Reviews.Find(group, plural) is { } review)
            {
                await ApiIo.WriteJsonAsync(ctx, 201, Reviews.Answer(review, await ApiIo.ReadObjectAsync(ctx, review.Kind)));
                return;
            }
            var target = ResourcePath.Parse(segments) ?? throw ApiError.PathNotFound();
            await DispatchAsync(ctx, target);
        }
        catch (ApiError e) when (!ctx.Response.HasStarted)
        {
            await ApiIo.WriteJsonAsync(ctx, e.Code, e.ToStatus());
        }
        catch (JsonException e) when (!ctx.Response.HasStarted)
        {
            await ApiIo.WriteJsonAsync(ctx, 400, ApiError.BadRequest($"error decoding request body: {e.Message}").ToStatus());
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested) { }
    }

    // ------------------------------------------------------------------ discovery

    private async Task<bool> TryDiscoveryAsync(HttpContext ctx, string[] s)
    {
        if (ctx.Request.Method != "GET")
        {
            return false;
        }

        JsonObject? doc = s switch
        {
            ["api"] => Discovery.CoreVersions(ctx.Request.Host.Value ?? "127.0.0.1"),
            ["api", "v1"] => Discovery.ResourceList("", "v1"),
            ["apis"] => Discovery.GroupList(),
            ["apis", var g] => Discovery.GroupDoc(g) ?? throw ApiError.PathNotFound(),
            ["apis", var g, var v] => Discovery.ResourceList(g, v) ?? throw ApiError.PathNotFound(),
            _ => null,
        };
        if (doc is null)
        {
            return false;
        }

        await ApiIo.WriteJsonAsync(ctx, 200, doc);
        return true;
    }

    private async Task DispatchAsync(HttpContext ctx, ResourcePath t)
    {
        var method = ctx.Request.Method;
        var q = ctx.Request.Query;
        var ns = t.Namespace ?? "";
        if (t.Subresource is { } sub)
        {
            if (!t.Kind.Subresources.Contains(sub))
            {
                throw ApiError.PathNotFound();
            }

            if (sub == "log" && method == "GET")
            { await logs.StreamAsync(ctx, ns, t.Name!); return; }
            if (sub == "scale")
            { await _scales.ServeAsync(ctx, t.Kind, ns, t.Name!); return; }
            if (sub == "status")
            {
                switch (method)
                {
                    case "GET":
                        await ApiIo.WriteObjectAsync(ctx, 200, Store.Get(t.Kind, ns, t.Name!) ?? throw ApiError.NotFound(t.Kind, t.Name!));
                        return;
                    case "PUT":
                        await ApiIo.WriteObjectAsync(ctx, 200, resources.Replace(t.Kind, ns, t.Name!, await ApiIo.ReadObjectAsync(ctx), q["fieldManager"], statusOnly: true, RequestOptions.IsDryRun(ctx)));
                        return;
                    case "PATCH":
                        await ApiIo.WriteObjectAsync(ctx, 200, resources.Patch(t.Kind, ns, t.Name!, ctx.Request.ContentType ?? "", await ApiIo.ReadNodeAsync(ctx), q["fieldManager"], statusOnly: true, RequestOptions.IsDryRun(ctx)));
                        return;
                }
            }
            throw ApiError.MethodNotAllowed();
        }

        if (t.Kind.Namespaced && t.Namespace is null && method != "GET")
        {
            throw ApiError.MethodNotAllowed();
        }

        switch (method, t.Name)
        {
            case ("GET", null):
                if (Query.IsTrue(q["watch"]))
                {
                    await watches.ServeAsync(ctx, t.Kind, t.Namespace);
                }
                else
                {
                    await ListAsync(ctx, t);
                }

                return;
            case ("GET", var name):
                var obj = Store.Get(t.Kind, ns, name) ?? throw ApiError.NotFound(t.Kind, name);
                if (Tables.Wanted(ctx.Request.Headers.Accept))
                {
                    await ApiIo.WriteJsonAsync(ctx, 200, Tables.Build(t.Kind, [obj], obj.ResourceVersion, q["includeObject"], time.GetUtcNow()), table: true);
                }
                else
                {
                    await ApiIo.WriteObjectAsync(ctx, 200, obj);
                }

                return;
            case ("POST", null):
                var validation = RequestOptions.Validation(ctx);
                var created = resources.Create(t.Kind, ns, await ApiIo.ReadObjectAsync(ctx, t.Kind.Kind), q["fieldManager"].FirstOrDefault() ?? RequestOptions.Agent(ctx), RequestOptions.IsDryRun(ctx), validation);
                await ApiIo.WriteObjectAsync(ctx, 201, created, validation);
                return;
            case ("PUT", var name) when name is not null:
                var putValidation = RequestOptions.Validation(ctx);
                var replaced = resources.Replace(t.Kind, ns, name, await ApiIo.ReadObjectAsync(ctx, t.Kind.Kind), q["fieldManager"].FirstOrDefault() ?? RequestOptions.Agent(ctx), statusOnly: false, RequestOptions.IsDryRun(ctx), putValidation);
                await ApiIo.WriteObjectAsync(ctx, 200, replaced, putValidation);
                return;
            case ("PATCH", var name) when name is not null:
                await PatchAsync(ctx, t.Kind, ns, name);
                return;
            case ("DELETE", var name) when name is not null:
                await DeleteAsync(ctx, t.Kind, ns, name);
                return;
            case ("DELETE", null):
                var selector = Selectors.Parse(q["labelSelector"], q["fieldSelector"]);
                var deleted = new List<StoredObject>();
                var (dryRunAll, _) = await RequestOptions.ReadDeleteOptionsAsync(ctx);
                foreach (var o in Store.List(t.Kind, t.Namespace, selector).Items)
                {
                    if (dryRunAll)
                    {
                        deleted.Add(o);
                    }
                    else if (Store.Delete(t.Kind, o.Namespace, o.Name, o.Uid) is { } gone)
                    {
                        deleted.Add(gone);
                    }
                }

                await ApiIo.WriteListAsync(ctx, t.Kind, deleted, Store.CurrentResourceVersion);
                return;
        }
        throw ApiError.MethodNotAllowed();
    }

    // ------------------------------------------------------------------ verbs

    private async Task ListAsync(HttpContext ctx, ResourcePath t)
    {
        var q = ctx.Request.Query;
        var (items, rv) = Store.List(t.Kind, t.Namespace, Selectors.Parse(q["labelSelector"], q["fieldSelector"]));
        if (Tables.Wanted(ctx.Request.Headers.Accept))
        {
            await ApiIo.WriteJsonAsync(ctx, 200, Tables.Build(t.Kind, items, rv, q["includeObject"], time.GetUtcNow()), table: true);
        }
        else
        {
            await ApiIo.WriteListAsync(ctx, t.Kind, items, rv);
        }
    }

    private async Task PatchAsync(HttpContext ctx, ResourceKind kind, string ns, string name)
    {
        var q = ctx.Request.Query;
        var contentType = ctx.Request.ContentType ?? "";
        if (contentType.StartsWith("application/apply-patch", StringComparison.OrdinalIgnoreCase))
        {
            var manager = q["fieldManager"].FirstOrDefault();
            if (string.IsNullOrEmpty(manager))
            {
                throw new ApiError(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                    new JsonObject { ["group"] = "meta.k8s.io", ["kind"] = "PatchOptions", ["causes"] = new JsonArray(new JsonObject { ["reason"] = "FieldValueRequired", ["message"] = "Required value: is required for apply patch", ["field"] = "fieldManager" }) });
            }

            RequestOptions.Validation(ctx); // refuses a value it does not know; what it governs is decided in ServerSideApply.Apply
            var body = await ApiIo.ReadObjectAsync(ctx);
            var (obj, created) = resources.Apply(kind, ns, name, body, manager, Query.IsTrue(q["force"]), RequestOptions.IsDryRun(ctx));
            await ApiIo.WriteObjectAsync(ctx, created ? 201 : 200, obj);
            return;
        }
        if (!contentType.StartsWith("application/merge-patch+json", StringComparison.OrdinalIgnoreCase) &&
            !contentType.StartsWith("application/strategic-merge-patch+json", StringComparison.OrdinalIgnoreCase) &&
            !contentType.StartsWith("application/json-patch+json", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiError.UnsupportedMediaType(contentType);
        }

        var patch = await ApiIo.ReadNodeAsync(ctx);
        var validation = RequestOptions.Validation(ctx);
        var patched = resources.Patch(kind, ns, name, contentType, patch, q["fieldManager"].FirstOrDefault() ?? RequestOptions.Agent(ctx), statusOnly: false, RequestOptions.IsDryRun(ctx), validation);
        await ApiIo.WriteObjectAsync(ctx, 200, patched, validation);
    }

    private async Task DeleteAsync(HttpContext ctx, ResourceKind kind, string ns, string name)
    {
        var (dryRun, uid) = await RequestOptions.ReadDeleteOptionsAsync(ctx);
        var gone = resources.Delete(kind, ns, name, uid, dryRun)!;
        if (kind.ReturnsObjectOnDelete)
        { await ApiIo.WriteObjectAsync(ctx, 200, gone); return; }
        var details = new JsonObject { ["name"] = name, ["kind"] = kind.Plural, ["uid"] = gone.Uid };
        if (kind.Group.Length > 0)
        {
            details["group"] = kind.Group;
        }

        await ApiIo.WriteJsonAsync(ctx, 200, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        });
    }

}

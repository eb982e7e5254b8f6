using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Logs;
using DeployPortal.KubeEmulator.Store;
using Microsoft.AspNetCore.Http;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>Maps Kubernetes REST paths to the store: get, list, watch, create, update, patch/apply, delete, delete-collection.</summary>
internal sealed class KubeApi(Resources resources, EmulatorOptions options, TimeProvider time, LogStreamer logs)
{
    private static readonly byte[] ApplicationJson = "application/json"u8.ToArray();
    private ObjectStore Store => resources.Store;

    /// <summary>A parsed resource path.</summary>
    private sealed record Target(ResourceKind Kind, string? Namespace, string? Name, string? Subresource);

    public async Task HandleAsync(HttpContext ctx)
    {
        try
        {
            var segments = ctx.Request.Path.Value!.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (await TryDiscoveryAsync(ctx, segments)) return;
            if (ctx.Request.Method == "POST" && segments is ["apis", var group, "v1", var plural] && Reviews.Find(group, plural) is { } review)
            {
                await WriteJsonAsync(ctx, 201, Reviews.Answer(review, await ReadObjectAsync(ctx, review.Kind)));
                return;
            }
            var target = Parse(segments) ?? throw ApiError.PathNotFound();
            await DispatchAsync(ctx, target);
        }
        catch (ApiError e) when (!ctx.Response.HasStarted)
        {
            await WriteJsonAsync(ctx, e.Code, e.ToStatus());
        }
        catch (JsonException e) when (!ctx.Response.HasStarted)
        {
            await WriteJsonAsync(ctx, 400, ApiError.BadRequest($"error decoding request body: {e.Message}").ToStatus());
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested) { }
    }

    // ------------------------------------------------------------------ discovery

    private async Task<bool> TryDiscoveryAsync(HttpContext ctx, string[] s)
    {
        if (ctx.Request.Method != "GET") return false;
        JsonObject? doc = s switch
        {
            ["api"] => Discovery.CoreVersions(ctx.Request.Host.Value ?? "127.0.0.1"),
            ["api", "v1"] => Discovery.ResourceList("", "v1"),
            ["apis"] => Discovery.GroupList(),
            ["apis", var g] => Discovery.GroupDoc(g) ?? throw ApiError.PathNotFound(),
            ["apis", var g, var v] => Discovery.ResourceList(g, v) ?? throw ApiError.PathNotFound(),
            _ => null,
        };
        if (doc is null) return false;
        await WriteJsonAsync(ctx, 200, doc);
        return true;
    }

    private static Target? Parse(string[] s)
    {
        string group, version; int i;
        if (s.Length >= 2 && s[0] == "api") { group = ""; version = s[1]; i = 2; }
        else if (s.Length >= 3 && s[0] == "apis") { group = s[1]; version = s[2]; i = 3; }
        else return null;
        var rest = s[i..];
        if (rest.Length >= 3 && rest[0] == "namespaces" && ResourceKind.Find(group, version, rest[2]) is { Namespaced: true } nk)
            return rest.Length <= 5 ? new Target(nk, rest[1], rest.ElementAtOrDefault(3), rest.ElementAtOrDefault(4)) : null;
        if (rest.Length is >= 1 and <= 3 && ResourceKind.Find(group, version, rest[0]) is { } k)
        {
            if (k.Namespaced && rest.Length > 1) return null;
            return new Target(k, null, rest.ElementAtOrDefault(1), rest.ElementAtOrDefault(2));
        }
        return null;
    }

    private async Task DispatchAsync(HttpContext ctx, Target t)
    {
        var method = ctx.Request.Method;
        var q = ctx.Request.Query;
        var ns = t.Namespace ?? "";
        if (t.Subresource is { } sub)
        {
            if (!t.Kind.Subresources.Contains(sub)) throw ApiError.PathNotFound();
            if (sub == "log" && method == "GET") { await logs.StreamAsync(ctx, ns, t.Name!); return; }
            if (sub == "scale") { await ScaleAsync(ctx, t, ns); return; }
            if (sub == "status")
            {
                switch (method)
                {
                    case "GET": await WriteObjectAsync(ctx, 200, Store.Get(t.Kind, ns, t.Name!) ?? throw ApiError.NotFound(t.Kind, t.Name!)); return;
                    case "PUT": await WriteObjectAsync(ctx, 200, resources.Replace(t.Kind, ns, t.Name!, await ReadObjectAsync(ctx), q["fieldManager"], statusOnly: true, IsDryRun(ctx))); return;
                    case "PATCH": await WriteObjectAsync(ctx, 200, resources.Patch(t.Kind, ns, t.Name!, ctx.Request.ContentType ?? "", await ReadNodeAsync(ctx), q["fieldManager"], statusOnly: true, IsDryRun(ctx))); return;
                }
            }
            throw ApiError.MethodNotAllowed();
        }

        if (t.Kind.Namespaced && t.Namespace is null && method != "GET") throw ApiError.MethodNotAllowed();
        switch (method, t.Name)
        {
            case ("GET", null):
                if (IsTrue(q["watch"])) await WatchAsync(ctx, t); else await ListAsync(ctx, t);
                return;
            case ("GET", var name):
                var obj = Store.Get(t.Kind, ns, name) ?? throw ApiError.NotFound(t.Kind, name);
                if (Tables.Wanted(ctx.Request.Headers.Accept))
                    await WriteJsonAsync(ctx, 200, Tables.Build(t.Kind, [obj], obj.ResourceVersion, q["includeObject"], time.GetUtcNow()), table: true);
                else await WriteObjectAsync(ctx, 200, obj);
                return;
            case ("POST", null):
                var validation = Validation(ctx);
                var created = resources.Create(t.Kind, ns, await ReadObjectAsync(ctx, t.Kind.Kind), q["fieldManager"].FirstOrDefault() ?? Agent(ctx), IsDryRun(ctx), validation);
                await WriteObjectAsync(ctx, 201, created, validation);
                return;
            case ("PUT", var name) when name is not null:
                var putValidation = Validation(ctx);
                var replaced = resources.Replace(t.Kind, ns, name, await ReadObjectAsync(ctx, t.Kind.Kind), q["fieldManager"].FirstOrDefault() ?? Agent(ctx), statusOnly: false, IsDryRun(ctx), putValidation);
                await WriteObjectAsync(ctx, 200, replaced, putValidation);
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
                var (dryRunAll, _) = await ReadDeleteOptionsAsync(ctx);
                foreach (var o in Store.List(t.Kind, t.Namespace, selector).Items)
                    if (dryRunAll) deleted.Add(o);
                    else if (Store.Delete(t.Kind, o.Namespace, o.Name, o.Uid) is { } gone) deleted.Add(gone);
                await WriteListAsync(ctx, t.Kind, deleted, Store.CurrentResourceVersion);
                return;
        }
        throw ApiError.MethodNotAllowed();
    }

    private static string Agent(HttpContext ctx)
    {
        var ua = ctx.Request.Headers.UserAgent.ToString();
        var slash = ua.IndexOf('/');
        return slash > 0 ? ua[..slash] : ua.Length > 0 ? ua : "unknown";
    }

    private static bool IsTrue(string? v) => v is "true" or "1" or "True";
    private static bool IsDryRun(HttpContext ctx)
    {
        var values = ctx.Request.Query["dryRun"];
        if (values.Any(v => v != "All")) throw ApiError.BadRequest($"Invalid dry run value: {values}. Valid values are: All");
        return values.Count > 0;
    }

    private static FieldValidation Validation(HttpContext ctx) => FieldValidation.Parse(ctx.Request.Query["fieldValidation"].FirstOrDefault());

    // ------------------------------------------------------------------ verbs

    private async Task ListAsync(HttpContext ctx, Target t)
    {
        var q = ctx.Request.Query;
        var (items, rv) = Store.List(t.Kind, t.Namespace, Selectors.Parse(q["labelSelector"], q["fieldSelector"]));
        if (Tables.Wanted(ctx.Request.Headers.Accept))
            await WriteJsonAsync(ctx, 200, Tables.Build(t.Kind, items, rv, q["includeObject"], time.GetUtcNow()), table: true);
        else await WriteListAsync(ctx, t.Kind, items, rv);
    }

    private async Task PatchAsync(HttpContext ctx, ResourceKind kind, string ns, string name)
    {
        var q = ctx.Request.Query;
        var contentType = ctx.Request.ContentType ?? "";
        if (contentType.StartsWith("application/apply-patch", StringComparison.OrdinalIgnoreCase))
        {
            var manager = q["fieldManager"].FirstOrDefault();
            if (string.IsNullOrEmpty(manager))
                throw new ApiError(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                    new JsonObject { ["group"] = "meta.k8s.io", ["kind"] = "PatchOptions", ["causes"] = new JsonArray(new JsonObject { ["reason"] = "FieldValueRequired", ["message"] = "Required value: is required for apply patch", ["field"] = "fieldManager" }) });
            Validation(ctx); // refuses a value it does not know; what it governs is decided in Resources.Apply
            var body = await ReadObjectAsync(ctx);
            var (obj, created) = resources.Apply(kind, ns, name, body, manager, IsTrue(q["force"]), IsDryRun(ctx));
            await WriteObjectAsync(ctx, created ? 201 : 200, obj);
            return;
        }
        if (!contentType.StartsWith("application/merge-patch+json", StringComparison.OrdinalIgnoreCase) &&
            !contentType.StartsWith("application/strategic-merge-patch+json", StringComparison.OrdinalIgnoreCase) &&
            !contentType.StartsWith("application/json-patch+json", StringComparison.OrdinalIgnoreCase))
            throw ApiError.UnsupportedMediaType(contentType);
        var patch = await ReadNodeAsync(ctx);
        var validation = Validation(ctx);
        var patched = resources.Patch(kind, ns, name, contentType, patch, q["fieldManager"].FirstOrDefault() ?? Agent(ctx), statusOnly: false, IsDryRun(ctx), validation);
        await WriteObjectAsync(ctx, 200, patched, validation);
    }

    private async Task DeleteAsync(HttpContext ctx, ResourceKind kind, string ns, string name)
    {
        var (dryRun, uid) = await ReadDeleteOptionsAsync(ctx);
        var gone = resources.Delete(kind, ns, name, uid, dryRun)!;
        if (kind.ReturnsObjectOnDelete) { await WriteObjectAsync(ctx, 200, gone); return; }
        var details = new JsonObject { ["name"] = name, ["kind"] = kind.Plural, ["uid"] = gone.Uid };
        if (kind.Group.Length > 0) details["group"] = kind.Group;
        await WriteJsonAsync(ctx, 200, new JsonObject
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success", ["details"] = details,
        });
    }

    /// <summary>DeleteOptions come in the body (kubectl sends <c>dryRun</c> there) or the query.</summary>
    private static async Task<(bool DryRun, string? Uid)> ReadDeleteOptionsAsync(HttpContext ctx)
    {
        var dryRun = IsDryRun(ctx);
        string? uid = null;
        if (ctx.Request.ContentLength is > 0 || ctx.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = await ReadNodeAsync(ctx, required: false);
            uid = Json.Str(body, "preconditions", "uid");
            if (body["dryRun"] is JsonArray values)
            {
                if (values.Any(v => v?.ToString() != "All")) throw ApiError.BadRequest($"Invalid dry run value: {values.ToJsonString()}. Valid values are: All");
                dryRun |= values.Count > 0;
            }
        }
        return (dryRun, uid);
    }

    private async Task ScaleAsync(HttpContext ctx, Target t, string ns)
    {
        if (t.Kind != ResourceKind.Deployment && t.Kind != ResourceKind.ReplicaSet) throw ApiError.PathNotFound();
        var obj = Store.Get(t.Kind, ns, t.Name!) ?? throw ApiError.NotFound(t.Kind, t.Name!);
        if (ctx.Request.Method is "PUT" or "PATCH")
        {
            var scale = ToScale(obj);
            if (ctx.Request.Method == "PUT") scale = await ReadObjectAsync(ctx);
            else
            {
                var ct = ctx.Request.ContentType ?? "";
                var patch = await ReadNodeAsync(ctx);
                if (ct.StartsWith("application/json-patch+json", StringComparison.OrdinalIgnoreCase)) scale = Json.JsonPatch(scale, patch.AsArray());
                else Json.MergePatch(scale, patch.AsObject(), strategic: false);
            }
            var replicas = Json.Long(scale, "spec", "replicas") ?? throw ApiError.BadRequest("spec.replicas is required");
            obj = resources.Patch(t.Kind, ns, t.Name!, "application/merge-patch+json", new JsonObject { ["spec"] = new JsonObject { ["replicas"] = replicas } }, ctx.Request.Query["fieldManager"].FirstOrDefault() ?? Agent(ctx), statusOnly: false, IsDryRun(ctx));
        }
        else if (ctx.Request.Method != "GET") throw ApiError.MethodNotAllowed();
        await WriteJsonAsync(ctx, 200, ToScale(obj));
    }

    private static JsonObject ToScale(StoredObject obj)
    {
        var ml = obj.Node["spec"]?["selector"]?["matchLabels"] as JsonObject;
        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = obj.Name, ["namespace"] = obj.Namespace, ["uid"] = obj.Uid,
                ["resourceVersion"] = obj.ResourceVersion.ToString(CultureInfo.InvariantCulture),
                ["creationTimestamp"] = obj.Node["metadata"]?["creationTimestamp"]?.DeepClone(),
            },
            ["spec"] = new JsonObject { ["replicas"] = Json.Long(obj.Node, "spec", "replicas") ?? 1 },
            ["status"] = new JsonObject
            {
                ["replicas"] = Json.Long(obj.Node, "status", "replicas") ?? 0,
                ["selector"] = ml is null ? "" : string.Join(',', ml.Select(p => $"{p.Key}={p.Value}")),
            },
        };
    }

    // ------------------------------------------------------------------ watch

    private async Task WatchAsync(HttpContext ctx, Target t)
    {
        var q = ctx.Request.Query;
        var filter = Selectors.Parse(q["labelSelector"], q["fieldSelector"]) ?? (_ => true);
        long? from = null;
        var rvText = q["resourceVersion"].FirstOrDefault();
        if (!string.IsNullOrEmpty(rvText) && rvText != "0")
        {
            if (!long.TryParse(rvText, CultureInfo.InvariantCulture, out var rv)) throw ApiError.BadRequest($"invalid resource version: {rvText}");
            from = rv;
        }
        var timeout = options.WatchTimeout;
        if (long.TryParse(q["timeoutSeconds"], CultureInfo.InvariantCulture, out var ts) && ts > 0) timeout = TimeSpan.FromSeconds(ts);
        var bookmarks = IsTrue(q["allowWatchBookmarks"]);
        var table = Tables.Wanted(ctx.Request.Headers.Accept);
        var includeObject = q["includeObject"].FirstOrDefault();
        var faults = options.Faults;

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json";
        ctx.Response.Headers.CacheControl = "no-cache, private";
        Subscription sub;
        try
        {
            sub = Store.Subscribe(t.Kind, t.Namespace, from, filter);
        }
        catch (ResourceVersionTooOldException e)
        {
            await ctx.Response.StartAsync(ctx.RequestAborted);
            var status = new JsonObject
            {
                ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Failure",
                ["message"] = e.Message, ["reason"] = "Expired", ["code"] = 410,
            };
            await WriteLineAsync(ctx, new JsonObject { ["type"] = "ERROR", ["object"] = status }.ToJsonString());
            return;
        }
        using var _sub = sub;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        cts.CancelAfter(timeout);
        var dropAfter = faults.DropWatchAfter;
        var dropAt = dropAfter is { } da ? time.GetUtcNow() + da : (DateTimeOffset?)null;
        await ctx.Response.StartAsync(cts.Token);
        await ctx.Response.Body.FlushAsync(cts.Token);
        var sent = 0;
        var headersSent = false;
        var lastBookmark = time.GetUtcNow();
        var reader = sub.Events.Reader;
        try
        {
            while (!cts.IsCancellationRequested)
            {
                var wait = options.BookmarkInterval;
                if (dropAt is { } d0) { var left = d0 - time.GetUtcNow(); if (left < wait) wait = left < TimeSpan.Zero ? TimeSpan.Zero : left; }
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
                tick.CancelAfter(wait);
                bool ready;
                try { ready = await reader.WaitToReadAsync(tick.Token); }
                catch (OperationCanceledException) when (!cts.IsCancellationRequested) { ready = false; }
                if (dropAt is { } d1 && time.GetUtcNow() >= d1) { ctx.Abort(); return; }
                if (!ready)
                {
                    if (reader.Completion.IsCompleted) return;
                    if (bookmarks && time.GetUtcNow() - lastBookmark >= options.BookmarkInterval)
                    {
                        lastBookmark = time.GetUtcNow();
                        var bm = new JsonObject
                        {
                            ["type"] = "BOOKMARK",
                            ["object"] = new JsonObject
                            {
                                ["kind"] = t.Kind.Kind, ["apiVersion"] = t.Kind.ApiVersion,
                                ["metadata"] = new JsonObject { ["resourceVersion"] = Store.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture) },
                            },
                        };
                        await WriteLineAsync(ctx, bm.ToJsonString(), cts.Token);
                    }
                    continue;
                }
                var buffer = new MemoryStream();
                while (reader.TryRead(out var e))
                {
                    if (!filter(e.Object)) continue;
                    if (table)
                    {
                        var tbl = Tables.Build(t.Kind, [e.Object], e.ResourceVersion, includeObject, time.GetUtcNow(), headers: !headersSent);
                        headersSent = true;
                        buffer.Write(Encoding.UTF8.GetBytes(new JsonObject { ["type"] = e.TypeName, ["object"] = tbl }.ToJsonString()));
                    }
                    else
                    {
                        buffer.Write("{\"type\":\""u8);
                        buffer.Write(Encoding.ASCII.GetBytes(e.TypeName));
                        buffer.Write("\",\"object\":"u8);
                        buffer.Write(e.Object.Json);
                        buffer.Write("}"u8);
                    }
                    buffer.WriteByte((byte)'\n');
                    sent++;
                    if (faults.DropWatchAfterEvents is { } n && sent >= n)
                    {
                        await ctx.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cts.Token);
                        await ctx.Response.Body.FlushAsync(cts.Token);
                        await Task.Delay(50, cts.Token); // let the client read what was sent before the connection drops
                        ctx.Abort();
                        return;
                    }
                }
                if (buffer.Length > 0)
                {
                    await ctx.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cts.Token);
                    await ctx.Response.Body.FlushAsync(cts.Token);
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
    }

    private static async Task WriteLineAsync(HttpContext ctx, string json, CancellationToken ct = default)
    {
        await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(json + "\n"), ct);
        await ctx.Response.Body.FlushAsync(ct);
    }

    // ------------------------------------------------------------------ bodies

    private static async Task<JsonNode> ReadNodeAsync(HttpContext ctx, bool required = true)
    {
        var contentType = ctx.Request.ContentType ?? "";
        if (contentType.Contains("protobuf", StringComparison.OrdinalIgnoreCase) || contentType.Contains("cbor", StringComparison.OrdinalIgnoreCase))
            throw new ApiError(415, "UnsupportedMediaType", $"the emulator accepts JSON bodies here; {contentType} is decoded only for creates and updates (kubectl apply and KubernetesClient send JSON)");
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(ctx.RequestAborted);
        if (string.IsNullOrWhiteSpace(text))
        {
            if (required) throw ApiError.BadRequest("the request body is empty");
            return new JsonObject();
        }
        var trimmed = text.TrimStart();
        if (trimmed[0] is not ('{' or '['))
            throw ApiError.BadRequest("the emulator accepts JSON bodies only (JSON is valid YAML; kubectl and KubernetesClient send JSON)");
        return JsonNode.Parse(text) ?? throw ApiError.BadRequest("the request body is null");
    }

    /// <summary>Reads an object body: JSON, or for a create or update of <paramref name="kind"/>, the Protobuf that typed clients send.</summary>
    private static async Task<JsonObject> ReadObjectAsync(HttpContext ctx, string? kind = null)
    {
        if (kind is not null && Protobuf.IsProtobuf(ctx.Request.ContentType))
        {
            using var buffer = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted);
            return Protobuf.Decode(buffer.ToArray(), kind);
        }
        return await ReadNodeAsync(ctx) as JsonObject ?? throw ApiError.BadRequest("the request body must be a JSON object");
    }

    // ------------------------------------------------------------------ responses

    internal static async Task WriteJsonAsync(HttpContext ctx, int status, JsonNode body, bool table = false)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json";
        await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(body.ToJsonString()), ctx.RequestAborted);
    }

    private static async Task WriteObjectAsync(HttpContext ctx, int status, StoredObject obj, FieldValidation? validation = null)
    {
        // RFC 7234 warnings, as a real server sends them and kubectl prints them ("Warning: unknown field ...").
        foreach (var w in validation?.Warnings ?? [])
            ctx.Response.Headers.Append("Warning", $"299 - \"{w.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = obj.Json.Length;
        await ctx.Response.Body.WriteAsync(obj.Json, ctx.RequestAborted);
    }

    private static async Task WriteListAsync(HttpContext ctx, ResourceKind kind, List<StoredObject> items, long rv)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        var head = Encoding.UTF8.GetBytes($"{{\"kind\":\"{kind.ListKind}\",\"apiVersion\":\"{kind.ApiVersion}\",\"metadata\":{{\"resourceVersion\":\"{rv}\"}},\"items\":[");
        long length = head.Length + 2 + Math.Max(0, items.Count - 1);
        foreach (var i in items) length += i.Json.Length;
        ctx.Response.ContentLength = length;
        var body = ctx.Response.BodyWriter;
        body.Write(head);
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0) body.Write(","u8);
            body.Write(items[i].Json);
        }
        body.Write("]}"u8);
        await body.FlushAsync(ctx.RequestAborted);
    }
}

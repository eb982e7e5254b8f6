using System.Globalization;
using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>The <c>scale</c> subresource of Deployments and ReplicaSets: reads and writes <c>spec.replicas</c> as an autoscaling/v1 Scale.</summary>
internal sealed class ScaleSubresource(Resources resources)
{
    public async Task ServeAsync(HttpContext ctx, ResourceKind kind, string ns, string name)
    {
        if (kind != ResourceKind.Deployment && kind != ResourceKind.ReplicaSet)
        {
            throw ApiError.PathNotFound();
        }

        var obj = resources.Store.Get(kind, ns, name) ?? throw ApiError.NotFound(kind, name);
        if (ctx.Request.Method is "PUT" or "PATCH")
        {
            var scale = ToScale(obj);
            if (ctx.Request.Method == "PUT")
            {
                scale = await ApiIo.ReadObjectAsync(ctx);
            }
            else
            {
                var ct = ctx.Request.ContentType ?? "";
                var patch = await ApiIo.ReadNodeAsync(ctx);
                if (ct.StartsWith("application/json-patch+json", StringComparison.OrdinalIgnoreCase))
                {
                    scale = JsonPatches.JsonPatch(scale, patch.AsArray());
                }
                else
                {
                    JsonPatches.MergePatch(scale, patch.AsObject(), strategic: false);
                }
            }
            var replicas = Json.Long(scale, "spec", "replicas") ?? throw ApiError.BadRequest("spec.replicas is required");
            obj = resources.Patch(kind, ns, name, "application/merge-patch+json", new JsonObject { ["spec"] = new JsonObject { ["replicas"] = replicas } }, ctx.Request.Query["fieldManager"].FirstOrDefault() ?? RequestOptions.Agent(ctx), statusOnly: false, RequestOptions.IsDryRun(ctx));
        }
        else if (ctx.Request.Method != "GET")
        {
            throw ApiError.MethodNotAllowed();
        }

        await ApiIo.WriteJsonAsync(ctx, 200, ToScale(obj));
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
                ["name"] = obj.Name,
                ["namespace"] = obj.Namespace,
                ["uid"] = obj.Uid,
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
}

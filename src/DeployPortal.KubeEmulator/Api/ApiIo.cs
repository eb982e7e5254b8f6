using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>Request bodies in (JSON, or Protobuf for typed creates) and responses out (objects, lists, Status, watch lines).</summary>
internal static class ApiIo
{
    // ------------------------------------------------------------------ bodies

    public static async Task<JsonNode> ReadNodeAsync(HttpContext ctx, bool required = true)
    {
        var contentType = ctx.Request.ContentType ?? "";
        if (contentType.Contains("protobuf", StringComparison.OrdinalIgnoreCase) || contentType.Contains("cbor", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiError(415, "UnsupportedMediaType", $"the emulator accepts JSON bodies here; {contentType} is decoded only for creates and updates (kubectl apply and KubernetesClient send JSON)");
        }

        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(ctx.RequestAborted);
        if (string.IsNullOrWhiteSpace(text))
        {
            if (required)
            {
                throw ApiError.BadRequest("the request body is empty");
            }

            return new JsonObject();
        }
        var trimmed = text.TrimStart();
        if (trimmed[0] is not ('{' or '['))
        {
            throw ApiError.BadRequest("the emulator accepts JSON bodies only (JSON is valid YAML; kubectl and KubernetesClient send JSON)");
        }

        return JsonNode.Parse(text) ?? throw ApiError.BadRequest("the request body is null");
    }

    /// <summary>Reads an object body: JSON, or for a create or update of <paramref name="kind"/>, the Protobuf that typed clients send.</summary>
    public static async Task<JsonObject> ReadObjectAsync(HttpContext ctx, string? kind = null)
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

    public static async Task WriteJsonAsync(HttpContext ctx, int status, JsonNode body, bool table = false)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json";
        await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(body.ToJsonString()), ctx.RequestAborted);
    }

    public static async Task WriteObjectAsync(HttpContext ctx, int status, StoredObject obj, FieldValidation? validation = null)
    {
        // RFC 7234 warnings, as a real server sends them and kubectl prints them ("Warning: unknown field ...").
        foreach (var w in validation?.Warnings ?? [])
        {
            ctx.Response.Headers.Append("Warning", $"299 - \"{w.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        }

        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = obj.Json.Length;
        await ctx.Response.Body.WriteAsync(obj.Json, ctx.RequestAborted);
    }

    public static async Task WriteListAsync(HttpContext ctx, ResourceKind kind, List<StoredObject> items, long rv)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        var head = Encoding.UTF8.GetBytes($"{{\"kind\":\"{kind.ListKind}\",\"apiVersion\":\"{kind.ApiVersion}\",\"metadata\":{{\"resourceVersion\":\"{rv}\"}},\"items\":[");
        long length = head.Length + 2 + Math.Max(0, items.Count - 1);
        foreach (var i in items)
        {
            length += i.Json.Length;
        }

        ctx.Response.ContentLength = length;
        var body = ctx.Response.BodyWriter;
        body.Write(head);
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0)
            {
                body.Write(","u8);
            }

            body.Write(items[i].Json);
        }
        body.Write("]}"u8);
        await body.FlushAsync(ctx.RequestAborted);
    }

    public static async Task WriteLineAsync(HttpContext ctx, string json, CancellationToken ct = default)
    {
        await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(json + "\n"), ct);
        await ctx.Response.Body.FlushAsync(ct);
    }
}

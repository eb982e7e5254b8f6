using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>What a request asks for besides its body: field manager fallback, dry run, field validation, delete options.</summary>
internal static class RequestOptions
{
    public static string Agent(HttpContext ctx)
    {
        var ua = ctx.Request.Headers.UserAgent.ToString();
        var slash = ua.IndexOf('/');
        return slash > 0 ? ua[..slash] : ua.Length > 0 ? ua : "unknown";
    }

    public static bool IsDryRun(HttpContext ctx)
    {
        var values = ctx.Request.Query["dryRun"];
        if (values.Any(v => v != "All"))
        {
            throw ApiError.BadRequest($"Invalid dry run value: {values}. Valid values are: All");
        }

        return values.Count > 0;
    }

    public static FieldValidation Validation(HttpContext ctx) => FieldValidation.Parse(ctx.Request.Query["fieldValidation"].FirstOrDefault());

    /// <summary>DeleteOptions come in the body (kubectl sends <c>dryRun</c> there) or the query.</summary>
    public static async Task<(bool DryRun, string? Uid)> ReadDeleteOptionsAsync(HttpContext ctx)
    {
        var dryRun = IsDryRun(ctx);
        string? uid = null;
        if (ctx.Request.ContentLength is > 0 || ctx.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = await ApiIo.ReadNodeAsync(ctx, required: false);
            uid = Json.Str(body, "preconditions", "uid");
            if (body["dryRun"] is JsonArray values)
            {
                if (values.Any(v => v?.ToString() != "All"))
                {
                    throw ApiError.BadRequest($"Invalid dry run value: {values.ToJsonString()}. Valid values are: All");
                }

                dryRun |= values.Count > 0;
            }
        }
        return (dryRun, uid);
    }
}

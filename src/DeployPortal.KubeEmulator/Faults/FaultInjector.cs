using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Api;

namespace DeployPortal.KubeEmulator.Faults;

/// <summary>
/// Middleware that injects the request-level faults of <see cref="FaultOptions"/>: added latency, hanging requests,
/// and error responses with the Status bodies a real API server sends (500 InternalError, 503 ServiceUnavailable,
/// 429 TooManyRequests with Retry-After). Stream drops are applied by the watch and log handlers.
/// </summary>
internal sealed class FaultInjector(RequestDelegate next, EmulatorOptions options)
{
    private readonly object _randomLock = new();
    private Random _random = new();
    private int? _seed;

    public async Task InvokeAsync(HttpContext ctx)
    {
        var f = options.Faults;
        if (!Applies(ctx, f))
        { await next(ctx); return; }

        if (f.Latency > TimeSpan.Zero)
        {
            try
            { await Task.Delay(f.Latency, ctx.RequestAborted); }
            catch (OperationCanceledException) { return; }
        }
        if (f.HangRate > 0 && Roll() < f.HangRate)
        {
            try
            { await Task.Delay(f.HangFor, ctx.RequestAborted); }
            catch (OperationCanceledException) { return; }
            ctx.Abort();
            return;
        }
        int code;
        if (f.TryTakeFailNext(out code) || (f.ErrorRate > 0 && Roll() < f.ErrorRate && f.ErrorStatusCodes.Length > 0 && (code = Pick(f.ErrorStatusCodes)) > 0))
        {
            await WriteErrorAsync(ctx, code, f.RetryAfterSeconds);
            return;
        }
        await next(ctx);
    }

    private static bool Applies(HttpContext ctx, FaultOptions f)
    {
        var path = ctx.Request.Path.Value ?? "";
        if (!f.IncludeDiscovery && IsDiscovery(path))
        {
            return false;
        }

        if (f.PathContains is { Length: > 0 } pc && !path.Contains(pc, StringComparison.Ordinal))
        {
            return false;
        }

        if (f.Method is { Length: > 0 } m && !string.Equals(m, ctx.Request.Method, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return true;
    }

    internal static bool IsDiscovery(string path)
    {
        var s = path.Trim('/').Split('/');
        return s switch
        {
            ["version"] or ["healthz"] or ["readyz"] or ["livez"] or ["api"] or ["api", _] or ["apis"] or ["apis", _] or ["apis", _, _] => true,
            _ => path.StartsWith("/openapi", StringComparison.Ordinal),
        };
    }

    internal static Task WriteErrorAsync(HttpContext ctx, int code, int retryAfter)
    {
        var (reason, message) = code switch
        {
            429 => ("TooManyRequests", "Too many requests, please try again later."),
            503 => ("ServiceUnavailable", "The server is currently unable to handle the request"),
            500 => ("InternalError", "Internal error occurred: injected fault"),
            504 => ("Timeout", "Timeout: request did not complete within requested timeout - context deadline exceeded"),
            _ => ("InternalError", $"Internal error occurred: injected fault ({code})"),
        };
        JsonObject? details = code switch
        {
            429 => new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["reason"] = "RetryAfter", ["message"] = "injected fault" }), ["retryAfterSeconds"] = retryAfter },
            503 => new JsonObject { ["retryAfterSeconds"] = retryAfter },
            _ => new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["message"] = "injected fault" }) },
        };
        if (code is 429 or 503)
        {
            ctx.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return ApiIo.WriteJsonAsync(ctx, code, ApiError.Status(code, reason, message, details));
    }

    private double Roll()
    {
        lock (_randomLock)
        {
            var seed = options.Faults.Seed;
            if (seed != _seed)
            { _seed = seed; _random = seed is { } s ? new Random(s) : new Random(); }
            return _random.NextDouble();
        }
    }

    private int Pick(int[] codes)
    {
        lock (_randomLock)
        {
            return codes[_random.Next(codes.Length)];
        }
    }
}

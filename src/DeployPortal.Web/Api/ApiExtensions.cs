using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Registry;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace DeployPortal.Web.Api;

/// <summary>Bound from <c>Api:RateLimit</c>: requests per caller (token, or address when there is none).</summary>
internal sealed class ApiRateLimitOptions
{
    public const string Section = "Api:RateLimit";

    public int PermitsPerWindow { get; set; } = 120;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Requests answered 401 per client address and window. A fresh made-up token on every request gets a new
    /// token bucket each time, so failed sign-ins are also counted by address; past this, the address gets 429.
    /// </summary>
    public int FailedAuthPerWindow { get; set; } = 30;
}

internal sealed class ApiRateLimitOptionsValidator : IValidateOptions<ApiRateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiRateLimitOptions o) => new Common.OptionRules(ApiRateLimitOptions.Section)
        .Positive(nameof(o.PermitsPerWindow), o.PermitsPerWindow)
        .Positive(nameof(o.FailedAuthPerWindow), o.FailedAuthPerWindow)
        .Positive(nameof(o.Window), o.Window)
        .Result();
}

/// <summary>
/// The REST API for CI at <c>/api/v1</c>: bearer personal access tokens only (no cookies, so no CSRF),
/// problem details for every error, a rate limit per caller, an OpenAPI document at
/// <c>/openapi/v1.json</c> and a browsable reference (Scalar, served from the package) at <c>/api/docs</c>.
/// Each feature adds its endpoints to the versioned group in <see cref="MapApi"/>.
/// </summary>
public static class ApiExtensions
{
    public const string RateLimitPolicy = "api";
    public const string DocumentName = "v1";

    public static WebApplicationBuilder AddApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<ApiRateLimitOptions, ApiRateLimitOptionsValidator>().BindConfiguration(ApiRateLimitOptions.Section);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
        // A body or query the framework cannot bind throws (as it does in Development) so ApiExceptionHandler can name
        // the field, instead of a bare 400 in Production.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        // Enums by name only: "7" or 7 for a QA outcome is refused, never stored as an outcome nobody defined.
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(allowIntegerValues: false)));
        builder.Services.AddSingleton(sp => FailedAuthLimiter(sp.GetRequiredService<IOptionsMonitor<ApiRateLimitOptions>>()));
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, ct) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests", Detail = "Slow down and retry after the time in Retry-After." },
                });
            };
            o.AddPolicy(RateLimitPolicy, http =>
            {
                var limits = http.RequestServices.GetRequiredService<IOptionsMonitor<ApiRateLimitOptions>>().CurrentValue;
                return RateLimitPartition.GetFixedWindowLimiter(CallerKey(http), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.PermitsPerWindow,
                    Window = limits.Window,
                    QueueLimit = 0,
                });
            });
        });
        builder.Services.AddOpenApi(DocumentName, o =>
        {
            o.ShouldInclude = description => description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "DeployPortal API",
                    Version = DocumentName,
                    Description = "Slots, deployments, apps and branches for CI pipelines. Authenticate with a personal access token from your profile page: `Authorization: Bearer dp_…`.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "A personal access token (dp_…).",
                };
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] }];
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    /// <summary>
    /// Keeps API errors as problem details: the pages' status-code re-execution (to the HTML not-found
    /// page) is switched off under <c>/api</c>, exceptions become problem details without their details
    /// (<see cref="ApiExceptionHandler"/>), bodies are checked before they bind (<see cref="ApiRequestBody"/>),
    /// addresses with too many failed sign-ins are refused, and any empty error response gets a problem body.
    /// </summary>
    public static WebApplication UseApiErrors(this WebApplication app)
    {
        var failedAuth = app.Services.GetRequiredService<PartitionedRateLimiter<string>>();
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/api"), api => api.UseExceptionHandler().Use(async (http, next) =>
        {
            if (http.Features.Get<IStatusCodePagesFeature>() is { } statusCodePages)
            {
                statusCodePages.Enabled = false;
            }

            // No endpoint, or routing's own 405/415 endpoint: answer here, before the pages' sign-in
            // requirement (the fallback policy) would turn it into a redirect to /signin.
            var rejected = http.GetEndpoint() switch
            {
                null => StatusCodes.Status404NotFound,
                { DisplayName: { } name } when name.StartsWith("405 ", StringComparison.Ordinal) => StatusCodes.Status405MethodNotAllowed,
                { DisplayName: { } name } when name.StartsWith("415 ", StringComparison.Ordinal) => StatusCodes.Status415UnsupportedMediaType,
                _ => 0,
            };
            var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
            if (rejected != 0)
            {
                http.Response.StatusCode = rejected;
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails =
                    {
                        Detail = rejected switch
                        {
                            StatusCodes.Status404NotFound => "There is nothing at this address. The reference at /api/docs lists the API's addresses.",
                            StatusCodes.Status405MethodNotAllowed => $"This address does not take {http.Request.Method}. The reference at /api/docs lists what each address takes.",
                            _ => "Send the body as JSON, with the header Content-Type: application/json.",
                        },
                    },
                });
                return;
            }

            var address = "ip:" + http.Connection.RemoteIpAddress;
            if (failedAuth.GetStatistics(address)?.CurrentAvailablePermits <= 0)
            {
                var limits = http.RequestServices.GetRequiredService<IOptionsMonitor<ApiRateLimitOptions>>().CurrentValue;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(limits.Window.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = { Title = "Too many failed sign-ins", Detail = "Too many requests from this address had no valid token. Retry after the time in Retry-After with a valid token." },
                });
                return;
            }

            if (await ApiRequestBody.CheckAsync(http) is { } refused)
            {
                http.Response.StatusCode = refused.Status;
                await problems.WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = { Title = "The request was refused", Detail = refused.Detail } });
                return;
            }

            await next(http);
            if (http.Response.StatusCode == StatusCodes.Status401Unauthorized)
            {
                failedAuth.AttemptAcquire(address).Dispose();
            }

            if (http.Response is { HasStarted: false, StatusCode: >= 400, ContentLength: null, ContentType: null })
            {
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = http });
            }
        }));
        return app;
    }

    public static WebApplication MapApi(this WebApplication app)
    {
        var v1 = app.MapGroup("/api/v1")
            .RequireAuthorization(new AuthorizationPolicyBuilder(AccessTokenDefaults.Scheme).RequireAuthenticatedUser().Build())
            .RequireRateLimiting(RateLimitPolicy)
            .DisableAntiforgery() // bearer tokens only: a browser never sends one by itself
            .WithIdempotencyKeys()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        v1.MapSlotsApi();
        v1.MapDeploymentsApi();
        v1.MapQueueApi();
        v1.MapRegistryEvents();

        // The document only describes the API's shape (as the README does), and tools fetch it without a session.
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/api/docs", (options, http) => options
            .WithTitle("DeployPortal API")
            .WithOpenApiRoutePattern("/openapi/{documentName}.json")
            .AddDocument(DocumentName)
            .DisableDefaultFonts()
            .DisableTelemetry()
            // An internal tool: no AI chat, SDK or deploy links to outside services on the page.
            .DisableAgent()
            .HideDeveloperTools()
            .HideClientButton()
            .WithNonce(http.CspNonce()));
        return app;
    }

    /// <summary>Counts 401 answers per client address; <see cref="UseApiErrors"/> refuses an address that has none left.</summary>
    private static PartitionedRateLimiter<string> FailedAuthLimiter(IOptionsMonitor<ApiRateLimitOptions> options) =>
        PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.CurrentValue.FailedAuthPerWindow,
            Window = options.CurrentValue.Window,
            QueueLimit = 0,
        }));

    /// <summary>One bucket per token (hashed, never kept in clear), else per client address.</summary>
    private static string CallerKey(HttpContext http)
    {
        string? authorization = http.Request.Headers.Authorization;
        return string.IsNullOrEmpty(authorization)
            ? "ip:" + http.Connection.RemoteIpAddress
            : "token:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(authorization)), 0, 12);
    }
}

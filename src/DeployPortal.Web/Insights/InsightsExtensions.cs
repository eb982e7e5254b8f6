using DeployPortal.Web.Auth;
using Microsoft.AspNetCore.Authorization;
using Prometheus;

namespace DeployPortal.Web.Insights;

/// <summary>Bound from <c>Metrics</c>.</summary>
internal sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>Serve <c>/metrics</c> at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Off (the default, as Prometheus usually scrapes inside the cluster network): anyone who can reach the
    /// portal can read the figures, which name slots but no people. On: a personal access token is needed
    /// (<c>authorization: credentials: dp_…</c> in the scrape config), any role will do.
    /// </summary>
    public bool RequireToken { get; set; }
}

public static class InsightsExtensions
{
    public static WebApplicationBuilder AddInsights(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateOnStart();
        builder.Services.AddScoped<InsightsService>();
        builder.Services.AddScoped<WasteQueries>();
        builder.Services.AddSingleton<PortalMetrics>();
        builder.Services.AddSingleton<StandardSeries>();
        return builder;
    }

    /// <summary>Prometheus text exposition at <c>/metrics</c> (see <see cref="PortalMetrics"/> and <see cref="StandardSeries"/> for what is in it).</summary>
    public static WebApplication MapMetricsEndpoint(this WebApplication app)
    {
        var options = app.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        if (!options.Enabled)
        {
            return app;
        }

        app.Services.GetRequiredService<StandardSeries>(); // starts bridging the standard series into the registry
        var endpoint = app.MapMetrics("/metrics", app.Services.GetRequiredService<PortalMetrics>().Registry);
        if (options.RequireToken)
        {
            endpoint.RequireAuthorization(new AuthorizationPolicyBuilder(AccessTokenDefaults.Scheme).RequireAuthenticatedUser().Build());
        }
        else
        {
            endpoint.AllowAnonymous();
        }

        return app;
    }
}

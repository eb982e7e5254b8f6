using System.Diagnostics;
using DeployPortal.Web.Health;
using Hangfire;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DeployPortal.Web.Telemetry;

/// <summary>The portal's own trace source: job spans (<see cref="JobTracing"/>) hang from it.</summary>
public static class PortalTelemetry
{
    public const string Name = "DeployPortal";

    public static readonly ActivitySource Source = new(Name);
}

public static class TelemetryExtensions
{
    /// <summary>
    /// OpenTelemetry the .NET way: traces from a click or API call through the Hangfire job to each Kubernetes call
    /// (KubernetesClient speaks HttpClient), and HTTP, runtime and Hangfire metrics. Exported over OTLP when the standard
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (and the other <c>OTEL_*</c> settings) is set; the same standard HTTP, runtime
    /// and Hangfire series are also on <c>/metrics</c> beside the portal's own figures.
    /// </summary>
    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("deployportal"))
            .WithTracing(tracing => tracing
                .AddSource(PortalTelemetry.Name)
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !IsPlumbing(http.Request.Path))
                .AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(JobMetrics.MeterName));
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }

        builder.Services.AddSingleton<JobMetrics>();
        // Hangfire's filters are a process-wide static: add the (stateless) tracing filter once, whatever the host count.
        if (!GlobalJobFilters.Filters.Any(f => f.Instance is JobTracing))
        {
            GlobalJobFilters.Filters.Add(JobTracing.Instance);
        }

        return builder;
    }

    /// <summary>Health probes, scrapes and static files would drown the requests people make.</summary>
    private static bool IsPlumbing(PathString path) =>
        path.StartsWithSegments(HealthExtensions.LivenessPath) || path.StartsWithSegments(HealthExtensions.ReadinessPath) || path.StartsWithSegments("/metrics") || path.StartsWithSegments("/_framework")
        || path.StartsWithSegments("/_content");
}

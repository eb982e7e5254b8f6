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
        AddJobTracingOnce();
        return builder;
    }

    private static readonly Lock FilterGate = new();
    private static bool _jobTracingAdded;

    /// <summary>
    /// Hangfire's filters are a process-wide list that is not safe to read while another thread adds to it: add the
    /// (stateless) tracing filter once, under a lock, however many hosts start at the same time (tests start several).
    /// </summary>
    private static void AddJobTracingOnce()
    {
        lock (FilterGate)
        {
            if (!_jobTracingAdded)
            {
                GlobalJobFilters.Filters.Add(JobTracing.Instance);
                _jobTracingAdded = true;
            }
        }
    }

    /// <summary>Health probes, scrapes and static files would drown the requests people make.</summary>
    private static bool IsPlumbing(PathString path) =>
        path.StartsWithSegments(HealthExtensions.LivenessPath) || path.StartsWithSegments(HealthExtensions.ReadinessPath) || path.StartsWithSegments("/metrics") || path.StartsWithSegments("/_framework")
        || path.StartsWithSegments("/_content");
}

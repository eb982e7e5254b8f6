using System.Diagnostics.Metrics;
using DeployPortal.Web.Telemetry;
using Prometheus;

namespace DeployPortal.Web.Insights;

/// <summary>
/// The standard series on <c>/metrics</c> beside the portal's figures: ASP.NET Core's HTTP server, HttpClient (the
/// cluster calls among them), the .NET runtime and Hangfire's queue, bridged from .NET meters into the portal's registry
/// by prometheus-net's <see cref="MeterAdapter"/>. Only this host's meters (or process-wide ones such as the runtime's)
/// are taken, so two portals in one process do not report each other's requests.
/// </summary>
internal sealed class StandardSeries : IDisposable
{
    private static readonly HashSet<string> Meters = ["Microsoft.AspNetCore.Hosting", "System.Net.Http", "System.Runtime", JobMetrics.MeterName];

    private readonly IDisposable _adapter;

    public StandardSeries(PortalMetrics portal, IMeterFactory meters, JobMetrics jobs)
    {
        _ = jobs; // created here so its meter exists when the adapter starts listening
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = portal.Registry,
            // Without this, prometheus-net 8.2.1 puts the bridged series in its process-wide default registry.
            MetricFactory = Metrics.WithCustomRegistry(portal.Registry),
            InstrumentFilterPredicate = i => Meters.Contains(i.Meter.Name) && (i.Meter.Scope is null || ReferenceEquals(i.Meter.Scope, meters)),
        });
    }

    public void Dispose() => _adapter.Dispose();
}

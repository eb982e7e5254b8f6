using System.Diagnostics.Metrics;
using Hangfire;

namespace DeployPortal.Web.Telemetry;

/// <summary>
/// Hangfire's queue as metrics (<c>hangfire.jobs</c> by state: enqueued, scheduled, processing, failed), read from this
/// host's job storage when a collector asks, so a growing queue or failed deliveries show up beside the HTTP series.
/// </summary>
internal sealed class JobMetrics
{
    public const string MeterName = "DeployPortal.Jobs";

    public JobMetrics(IMeterFactory meters, JobStorage storage)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("hangfire.jobs", () => Observe(storage), unit: "{job}", description: "Background jobs by state.");
    }

    private static IEnumerable<Measurement<long>> Observe(JobStorage storage)
    {
        var statistics = storage.GetMonitoringApi().GetStatistics();
        return
        [
            new(statistics.Enqueued, new KeyValuePair<string, object?>("state", "enqueued")),
            new(statistics.Scheduled, new KeyValuePair<string, object?>("state", "scheduled")),
            new(statistics.Processing, new KeyValuePair<string, object?>("state", "processing")),
            new(statistics.Failed, new KeyValuePair<string, object?>("state", "failed")),
        ];
    }
}

using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;
using Prometheus;

namespace DeployPortal.Web.Insights;

/// <summary>
/// The insights figures for Prometheus, read from the database at each scrape. The database is shared by
/// every replica, so every replica reports the same cluster-wide values, and they survive restarts: scrape
/// one replica, or aggregate with <c>max</c>, never <c>sum</c>. Counters only grow because holds and
/// deployments are never deleted. The registry is this host's own (prometheus-net's default registry is a
/// process-wide static), so two portals in one process never mix their figures.
/// </summary>
internal sealed class PortalMetrics
{
    private static readonly DeploymentState[] Active = [DeploymentState.Queued, DeploymentState.Running];
    private static readonly DeploymentState[] Done = [DeploymentState.Succeeded, DeploymentState.Failed, DeploymentState.Cancelled];

    private readonly IDbContextFactory<PortalDb> _dbFactory;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Gauge _slotHeld;
    private readonly Gauge _slotsHeld;
    private readonly Gauge _slotsEnabled;
    private readonly Gauge _waitlistLength;
    private readonly Counter _holdsEnded;
    private readonly Gauge _deploymentsActive;
    private readonly Counter _deploymentsFinished;
    private readonly Histogram _duration;
    private HashSet<string> _slotNames = [];

    // Every finished deployment with an id below this has been observed by the histogram; finished ones at or
    // above it that were observed are remembered, so each is observed exactly once however deployments finish.
    private long _observedBelow;
    private readonly HashSet<long> _observedAbove = [];

    public PortalMetrics(IDbContextFactory<PortalDb> dbFactory)
    {
        _dbFactory = dbFactory;
        Registry = Metrics.NewCustomRegistry();
        var metrics = Metrics.WithCustomRegistry(Registry);
        _slotHeld = metrics.CreateGauge("deployportal_slot_held", "1 while the slot is held, 0 while it is free.", "slot");
        _slotsHeld = metrics.CreateGauge("deployportal_slots_held", "Slots held now.");
        _slotsEnabled = metrics.CreateGauge("deployportal_slots_enabled", "Slots open for claims.");
        _holdsEnded = metrics.CreateCounter("deployportal_holds_ended_total", "Holds that ended, by how: released (by the holder), qa_done, forced (by an admin), expired.", "reason");
        _deploymentsActive = metrics.CreateGauge("deployportal_deployments_active", "Deployments queued or running now.", "state");
        _deploymentsFinished = metrics.CreateCounter("deployportal_deployments_finished_total", "Deployments that finished, by outcome.", "state");
        _duration = metrics.CreateHistogram("deployportal_deployment_duration_seconds", "Start to finish of deployments that ran, by outcome.",
            new HistogramConfiguration { LabelNames = ["state"], Buckets = [5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600] });
        _waitlistLength = metrics.CreateGauge("deployportal_waitlist_length", "People waiting in the queue for a slot now.");
        Registry.AddBeforeCollectCallback(UpdateAsync);
    }

    public CollectorRegistry Registry { get; }

    internal async Task UpdateAsync(CancellationToken ct)
    {
        // Concurrent scrapes would race on the histogram's bookkeeping; one update at a time is plenty.
        await _gate.WaitAsync(ct);
        try
        {
            await using var db = _dbFactory.CreateDbContext();
            var slots = await db.Slots.AsNoTracking().Select(s => new { s.Name, s.Enabled, Held = db.Holds.Any(h => h.SlotId == s.Id && h.ReleasedAt == null) }).ToListAsync(ct);
            foreach (var slot in slots)
            {
                _slotHeld.WithLabels(slot.Name).Set(slot.Held ? 1 : 0);
            }

            foreach (var gone in _slotNames.Except(slots.Select(s => s.Name)))
            {
                _slotHeld.RemoveLabelled(gone); // renamed or removed: stop reporting it
            }

            _slotNames = [.. slots.Select(s => s.Name)];
            _slotsHeld.Set(slots.Count(s => s.Held));
            _slotsEnabled.Set(slots.Count(s => s.Enabled));

            var ended = await db.Holds.Where(h => h.ReleaseReason != null).GroupBy(h => h.ReleaseReason)
                .Select(g => new { Reason = g.Key!.Value, Count = g.Count() }).ToListAsync(ct);
            foreach (var reason in Enum.GetValues<ReleaseReason>())
            {
                _holdsEnded.WithLabels(Label(reason)).IncTo(ended.FirstOrDefault(e => e.Reason == reason)?.Count ?? 0);
            }

            var byState = await db.Deployments.GroupBy(d => d.State).Select(g => new { State = g.Key, Count = g.Count() }).ToListAsync(ct);
            int CountOf(DeploymentState state) => byState.FirstOrDefault(s => s.State == state)?.Count ?? 0;
            foreach (var state in Active)
            {
                _deploymentsActive.WithLabels(Label(state)).Set(CountOf(state));
            }

            foreach (var state in Done)
            {
                _deploymentsFinished.WithLabels(Label(state)).IncTo(CountOf(state));
            }

            _waitlistLength.Set(await db.Waitlist.CountAsync(w => w.State == WaitlistState.Waiting, ct));
            await ObserveDurationsAsync(db, ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ObserveDurationsAsync(PortalDb db, CancellationToken ct)
    {
        // Read the lowest unfinished id first: everything below it is finished now, so it is in the read below.
        var below = await db.Deployments.Where(d => d.Id >= _observedBelow && (d.State == DeploymentState.Queued || d.State == DeploymentState.Running)).MinAsync(d => (long?)d.Id, ct)
            ?? (await db.Deployments.MaxAsync(d => (long?)d.Id, ct) ?? 0) + 1;
        var finished = await db.Deployments.AsNoTracking()
            .Where(d => d.Id >= _observedBelow && d.State != DeploymentState.Queued && d.State != DeploymentState.Running)
            .Select(d => new { d.Id, d.State, d.StartedAt, d.FinishedAt }).ToListAsync(ct);
        foreach (var d in finished)
        {
            if (!_observedAbove.Add(d.Id))
            {
                continue;
            }

            if (d is { State: DeploymentState.Succeeded or DeploymentState.Failed, StartedAt: { } started, FinishedAt: { } done } && done >= started)
            {
                _duration.WithLabels(Label(d.State)).Observe((done - started).TotalSeconds);
            }
        }

        _observedBelow = Math.Max(_observedBelow, below);
        _observedAbove.RemoveWhere(id => id < _observedBelow);
    }

    private static string Label(ReleaseReason reason) => reason switch
    {
        ReleaseReason.QaDone => "qa_done",
        _ => reason.ToString().ToLowerInvariant(),
    };

    private static string Label(DeploymentState state) => state.ToString().ToLowerInvariant();
}

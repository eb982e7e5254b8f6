using DeployPortal.Web.Data;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Slots;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Deployments;

/// <summary>
/// How a run ends: the outcome written on the row (by the run that still holds the lease, and only once), the
/// people told, and the next deployment of the same app and slot started.
/// </summary>
internal sealed class DeploymentOutcome(
    IDbContextFactory<PortalDb> dbFactory,
    DeploymentLeases leases,
    IBackgroundJobClient jobs,
    SlotChangeNotifier notifier,
    PortalEvents events,
    ILogger<DeploymentOutcome> logger)
{
    private const int MaxReason = 4000;

    public async Task FinishAsync(DeploymentLease lease, DeploymentState state, string? reason, CancellationToken ct)
    {
        var id = lease.DeploymentId;
        var text = reason is { Length: > MaxReason } ? reason[..MaxReason] : reason;
        await using var db = dbFactory.CreateDbContext();
        var finished = await leases.EndAsync(db, lease, state, text, ct);
        // The stored reason keeps the crashed app's colours for the page; the portal's log and notifications get plain text.
        var plain = text is null ? null : Logs.AnsiText.Strip(text);
        logger.LogInformation("Deployment {Id} {State}{Reason}", id, state, plain is null ? "" : ": " + plain);
        notifier.Publish(lease.Change);
        // Only the run whose write landed tells anyone: a run that lost its lease, or a repeat, stays quiet.
        if (finished && state is DeploymentState.Succeeded or DeploymentState.Failed)
        {
            await RaiseFinishedAsync(db, id, state, plain);
        }
    }

    /// <summary>Deployments of one app into one slot run in request order: start the next one waiting.</summary>
    public async Task StartNextAsync(long finishedId, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        var finished = await db.Deployments.AsNoTracking().Where(d => d.Id == finishedId).Select(d => new { d.SlotId, d.App }).SingleAsync(ct);
        var next = await db.Deployments.Where(d => d.SlotId == finished.SlotId && d.App == finished.App && d.State == DeploymentState.Queued)
            .OrderBy(d => d.Id).Select(d => (long?)d.Id).FirstOrDefaultAsync(ct);
        if (next is { } nextId)
        {
            DeploymentService.Enqueue(jobs, nextId);
        }
    }

    private async Task RaiseFinishedAsync(PortalDb db, long id, DeploymentState state, string? reason)
    {
        try
        {
            var d = await db.Deployments.AsNoTracking().Where(x => x.Id == id)
                .Select(x => new { x.App, x.Branch, x.Commit, x.RequestedById, x.RequestedByName, Slot = x.Slot!.Name }).SingleAsync(CancellationToken.None);
            var commit = d.Commit is { Length: > 0 } c ? $" ({c[..Math.Min(7, c.Length)]})" : "";
            var why = reason is { Length: > 300 } ? reason[..300] + "…" : reason;
            events.Raise(state == DeploymentState.Succeeded
                ? new PortalEvent(PortalEventKind.DeploySucceeded, d.Slot, d.RequestedById, d.RequestedByName,
                    $"{d.App} {d.Branch}{commit} is running in {d.Slot}, deployed by {d.RequestedByName}.", $"/deployments/{id}")
                : new PortalEvent(PortalEventKind.DeployFailed, d.Slot, d.RequestedById, d.RequestedByName,
                    $"{d.App} {d.Branch}{commit} failed to deploy to {d.Slot} for {d.RequestedByName}: {why}", $"/deployments/{id}"));
        }
        catch (Exception ex)
        {
            // The outcome is recorded; a lost notification must not stop the next deployment from starting.
            logger.LogWarning(ex, "Could not raise the notification for deployment {Id}", id);
        }
    }
}

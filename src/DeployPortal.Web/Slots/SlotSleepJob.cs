using DeployPortal.Web.Cluster;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Scales a hold's apps to zero or back, as the hold's row says now (not as it said when the job was queued),
/// so a sleep and a wake queued close together end in the state the person chose last. Safe to run twice.
/// With <see cref="ClusterOptions.WakeHost"/> set, a sleeping hold's Ingresses lead to the portal's wake page, and
/// they are pointed back at the apps only once the apps are ready again, so a visitor is never sent to an empty app.
/// The changes themselves go through <see cref="IHoldScaling"/>: patches in the direct mode, commits in GitOps mode.
/// </summary>
internal sealed class SlotSleepJob(IDbContextFactory<PortalDb> dbFactory, ClusterGateway cluster, IHoldScaling scaling, IOptions<ClusterOptions> options,
    ILogger<SlotSleepJob> logger)
{
    /// <summary>How often a wake looks at the apps while they come up.</summary>
    internal static readonly TimeSpan ReadyPoll = TimeSpan.FromMilliseconds(500);

    [AutomaticRetry(Attempts = 5)]
    public async Task SleepAsync(long holdId, CancellationToken cancellationToken)
    {
        if (await FindAsync(holdId, cancellationToken) is { SleepingSince: not null } hold)
        {
            var idle = hold.SleepingSince.Value - hold.LastActivityAt;
            var why = idle >= TimeSpan.FromMinutes(1) ? $"idle {TimeText.Duration(idle)}" : "put to sleep from the board";
            await scaling.SleepAsync(Apps(hold), options.Value.WakeHost, why, cancellationToken);
            logger.LogInformation("Hold {Hold} in {Namespace} is asleep", holdId, hold.Slot!.Namespace);
        }
    }

    [AutomaticRetry(Attempts = 5)]
    public async Task WakeAsync(long holdId, CancellationToken cancellationToken)
    {
        if (await FindAsync(holdId, cancellationToken) is not { SleepingSince: null } hold)
        {
            return;
        }

        var ns = hold.Slot!.Namespace;
        await scaling.WakeAsync(Apps(hold), cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.Value.ProgressDeadlineSeconds));
        try
        {
            while (!(await cluster.HoldDeploymentsAsync(ns, holdId, deadline.Token)).All(IsReady))
            {
                await Task.Delay(ReadyPoll, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Hold {Hold} in {Namespace}: apps not ready within the progress deadline; routing to them anyway", holdId, ns);
        }

        // Asleep again meanwhile (someone chose sleep after this wake): leave the Ingresses with the portal.
        if (await FindAsync(holdId, cancellationToken) is { SleepingSince: null })
        {
            await scaling.RouteToAppsAsync(Apps(hold), cancellationToken);
            logger.LogInformation("Hold {Hold} in {Namespace} is awake", holdId, ns);
        }
    }

    /// <summary>Awake (in GitOps mode: once Argo CD applied the wake commit) and every replica available.</summary>
    private static bool IsReady(k8s.Models.V1Deployment d) => !ManifestBuilder.IsAsleep(d) && (d.Status?.AvailableReplicas ?? 0) >= (d.Spec.Replicas ?? 1);

    private static HoldApps Apps(Hold hold) => new(hold.Slot!.Name, hold.Slot.Namespace, hold.Id);

    private async Task<Hold?> FindAsync(long holdId, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        return await db.Holds.AsNoTracking().Include(h => h.Slot).FirstOrDefaultAsync(h => h.Id == holdId && h.ReleasedAt == null, ct);
    }
}

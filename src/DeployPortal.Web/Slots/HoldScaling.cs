using DeployPortal.Web.Cluster;

namespace DeployPortal.Web.Slots;

/// <summary>A hold's apps: the slot they run in (its name and namespace) and the hold that deployed them.</summary>
internal sealed record HoldApps(string Slot, string Namespace, long HoldId);

/// <summary>
/// How a hold's apps are put to sleep and woken (<see cref="SlotSleepJob"/>): in the direct mode by patching the cluster
/// (<see cref="ClusterHoldScaling"/>); in GitOps mode by committing the same changes to the configuration repository,
/// so Argo CD's self-heal applies them instead of undoing them (<c>GitOps.GitOpsHoldScaling</c>). Every call is safe to repeat.
/// </summary>
internal interface IHoldScaling
{
    /// <summary>
    /// Scales the hold's apps to zero, remembering their replicas, and with <paramref name="wakeHost"/> leads their Ingresses
    /// to the portal's wake page. <paramref name="why"/> says why in a person's words ("idle 30 min").
    /// </summary>
    Task SleepAsync(HoldApps hold, string? wakeHost, string why, CancellationToken ct);

    /// <summary>Gives the hold's sleeping apps their remembered replicas back; the Ingresses stay where they are.</summary>
    Task WakeAsync(HoldApps hold, CancellationToken ct);

    /// <summary>Leads the hold's Ingresses back to their own apps and removes what led them to the portal.</summary>
    Task RouteToAppsAsync(HoldApps hold, CancellationToken ct);
}

/// <summary>The direct mode's sleep and wake: merge patches on the live objects, under the sleep field manager.</summary>
internal sealed class ClusterHoldScaling(ClusterGateway cluster) : IHoldScaling
{
    public async Task SleepAsync(HoldApps hold, string? wakeHost, string why, CancellationToken ct)
    {
        await cluster.SleepForHoldAsync(hold.Namespace, hold.HoldId, ct);
        if (wakeHost is { Length: > 0 })
        {
            await cluster.RouteHoldToPortalAsync(hold.Namespace, hold.HoldId, wakeHost, ct);
        }
    }

    public Task WakeAsync(HoldApps hold, CancellationToken ct) => cluster.WakeForHoldAsync(hold.Namespace, hold.HoldId, ct);

    public Task RouteToAppsAsync(HoldApps hold, CancellationToken ct) => cluster.RouteHoldToAppsAsync(hold.Namespace, hold.HoldId, ct);
}

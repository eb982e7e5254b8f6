using DeployPortal.Web.Apps;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Slots;

/// <summary>Where a visited app stands while it wakes: how many of its pods are ready of how many wanted.</summary>
/// <param name="ClusterDown">The cluster did not answer: the wake is recorded and its job retries; the page keeps trying.</param>
public sealed record WakeProgress(string App, string Slot, bool WokenNow, int Ready, int Wanted, bool ClusterDown)
{
    public bool IsReady => !ClusterDown && Wanted > 0 && Ready >= Wanted;
}

/// <summary>
/// A visit to an app's address that reached the portal (its slot sleeps, so the Ingress points here): wakes the slot
/// and says how far its apps are. The visit counts as activity. Anyone may cause it, as waking only restores what was
/// there; the hold and its holder do not change.
/// </summary>
internal sealed class WakeOnAccess(IDbContextFactory<PortalDb> dbFactory, ManifestBuilder manifests, AppCatalog apps, IdleSlots idle, ClusterGateway cluster,
    ILogger<WakeOnAccess> logger)
{
    /// <summary>Null when <paramref name="host"/> is not the address of a configured app in a held slot.</summary>
    public async Task<WakeProgress?> VisitAsync(string host, CancellationToken ct)
    {
        if (manifests.ParseHost(host) is not var (app, slotName) || apps.Find(app) is null)
        {
            return null;
        }

        await using var db = dbFactory.CreateDbContext();
        var slot = await db.Slots.AsNoTracking().FirstOrDefaultAsync(s => s.Name == slotName, ct);
        if (slot is null || !await db.Holds.AnyAsync(h => h.SlotId == slot.Id && h.ReleasedAt == null, ct))
        {
            return null;
        }

        var woken = await idle.OnVisitAsync(slot.Id, ct);
        if (woken)
        {
            logger.LogInformation("A visit to {App} woke {Slot}", app, slotName);
        }

        try
        {
            var deployment = await cluster.ReadDeploymentAsync(slot.Namespace, app, ct);
            return new WakeProgress(app, slotName, woken, deployment.Status?.AvailableReplicas ?? 0, ManifestBuilder.WantedReplicas(deployment), ClusterDown: false);
        }
        catch (ClusterRejectedException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return new WakeProgress(app, slotName, woken, 0, 0, ClusterDown: false); // not deployed in this slot
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // Down, refusing or slow: the page says so and keeps trying; the wake job retries on its own.
            logger.LogWarning("Waking {Slot} for a visit to {App}: the cluster did not answer ({Error})", slotName, app, e.Message);
            return new WakeProgress(app, slotName, woken, 0, 0, ClusterDown: true);
        }
    }
}

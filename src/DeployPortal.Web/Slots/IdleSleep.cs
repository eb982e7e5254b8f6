using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Puts idle slots to sleep on its own (on by default): a hold unused for <see cref="IdleOptions.SleepAfter"/> with
/// something deployed and nothing being deployed has its apps scaled to zero. The hold stays with its holder; a deploy or
/// Wake on the board brings them back. One query per run, whatever the number of slots.
/// </summary>
internal sealed class IdleSleep(IDbContextFactory<PortalDb> dbFactory, IdleSlots idle, TimeProvider clock, IOptionsMonitor<IdleOptions> options,
    ILogger<IdleSleep> logger)
{
    public const string JobId = "sleep-idle-holds";

    /// <summary>Recurring, every minute. Returns how many holds this run put to sleep.</summary>
    public async Task<int> RunAsync(CancellationToken ct = default)
    {
        var o = options.CurrentValue;
        if (!o.AllowSleep || o.SleepAfter is not { } sleepAfter)
        {
            return 0;
        }

        var now = DbTime.UtcNow(clock);
        var idleSince = now - sleepAfter;
        await using var db = dbFactory.CreateDbContext();
        var due = await db.Holds.AsNoTracking()
            .Where(h => h.ReleasedAt == null && h.SleepingSince == null && h.Until > now && h.LastActivityAt <= idleSince)
            .Where(h => db.Deployments.Any(d => d.HoldId == h.Id && d.State == DeploymentState.Succeeded))
            .Where(h => !db.Deployments.Any(d => d.HoldId == h.Id && (d.State == DeploymentState.Queued || d.State == DeploymentState.Running || d.State == DeploymentState.WaitingForImage)))
            .Select(h => h.Id).ToListAsync(ct);
        var slept = 0;
        foreach (var holdId in due)
        {
            if (await idle.SleepIdleAsync(holdId, idleSince, ct))
            {
                slept++;
            }
        }

        if (slept > 0)
        {
            logger.LogInformation("Put {Count} idle holds to sleep", slept);
        }

        return slept;
    }
}

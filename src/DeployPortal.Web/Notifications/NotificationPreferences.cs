using System.Security.Claims;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Notifications;

/// <summary>
/// Per-person opt-out, set on the profile page. What it means: receivers are team channels, not inboxes,
/// so opting out of a kind stops the portal announcing events of that kind <em>about you</em> (the
/// <see cref="PortalEvent.UserId"/>: your deploys, your holds, your turn) to every receiver. Events about
/// nobody in particular are always sent, and you still see everything on the board. Checked when each
/// delivery job runs, so a change applies to notifications not yet sent.
/// </summary>
internal sealed class NotificationPreferences(IDbContextFactory<PortalDb> dbFactory, TimeProvider clock)
{
    public static IReadOnlyList<PortalEventKind> Kinds { get; } = Enum.GetValues<PortalEventKind>();

    public async Task<IReadOnlySet<PortalEventKind>> GetOptOutsAsync(ClaimsPrincipal user, CancellationToken ct = default)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return new HashSet<PortalEventKind>();
        }

        var userId = Actor.From(user).Id;
        await using var db = dbFactory.CreateDbContext();
        return (await db.NotificationOptOuts.AsNoTracking().Where(o => o.UserId == userId).Select(o => o.Kind).ToListAsync(ct)).ToHashSet();
    }

    /// <summary>Turns one kind on (<paramref name="notify"/>) or off for the signed-in person. Repeating it changes nothing.</summary>
    public async Task<Result<bool>> SetAsync(ClaimsPrincipal user, PortalEventKind kind, bool notify, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (user.Identity?.IsAuthenticated != true)
        {
            return Fail.Forbidden("Sign in to change your notifications.");
        }

        if (!Enum.IsDefined(kind))
        {
            return Fail.Invalid("There is no such notification.");
        }

        var userId = Actor.From(user).Id;
        await using var db = dbFactory.CreateDbContext();
        if (notify)
        {
            await db.NotificationOptOuts.Where(o => o.UserId == userId && o.Kind == kind).ExecuteDeleteAsync(ct);
            return Result<bool>.Ok(true);
        }

        db.NotificationOptOuts.Add(new NotificationOptOut { UserId = userId, Kind = kind, At = clock.GetUtcNow().UtcDateTime });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Already off (another tab, a double click): the key decides, and the outcome is the same.
        }

        return Result<bool>.Ok(false);
    }

    internal async Task<bool> IsOptedOutAsync(string userId, PortalEventKind kind, CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        return await db.NotificationOptOuts.AnyAsync(o => o.UserId == userId && o.Kind == kind, ct);
    }
}

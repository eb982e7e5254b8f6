using System.Security.Claims;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Auth;

/// <summary>
/// The first check of every state-changing service method. An open page keeps the principal it started with; only the
/// database knows whether that person has since signed out in another tab, run out of session, been signed out by an
/// admin, or changed role. Principals without a session (personal access tokens, background jobs) pass: their own
/// handlers check them on every request.
/// </summary>
public static class SessionCheck
{
    public const string SessionEndedMessage = "Your session ended — sign in again.";

    /// <summary>Null when <paramref name="user"/> may act; otherwise the refusal to show.</summary>
    public static async Task<Failure?> RefusalAsync(IDbContextFactory<PortalDb> dbFactory, TimeProvider clock, ClaimsPrincipal user,
        CancellationToken ct = default)
    {
        if (user.FindFirst(PortalClaims.Session)?.Value is not { } key)
        {
            return null;
        }

        await using var db = dbFactory.CreateDbContext();
        var now = clock.GetUtcNow().UtcDateTime;
        var session = await db.Sessions.AsNoTracking().Where(s => s.Key == key)
            .Select(s => new { s.EndedAt, s.ExpiresAt, s.Roles }).FirstOrDefaultAsync(ct);
        if (session is null || session.EndedAt is not null || session.ExpiresAt <= now)
        {
            return Fail.Forbidden(SessionEndedMessage);
        }

        return session.Roles == RolesOf(user)
            ? null
            : Fail.Forbidden($"Your role changed to {session.Roles.Replace(",", ", ", StringComparison.Ordinal)}. Reload the page to continue.");
    }

    /// <summary>A principal's portal roles as the session record keeps them: sorted, comma-separated.</summary>
    public static string RolesOf(ClaimsPrincipal user) =>
        string.Join(",", user.FindAll(PortalClaims.Role).Select(c => c.Value).Distinct().Order(StringComparer.Ordinal));
}

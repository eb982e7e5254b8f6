using System.Runtime.CompilerServices;
using System.Security.Claims;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Audit;

/// <summary>
/// A refusal is recorded before it is returned, so attempts beyond one's rights show up in the history
/// whichever way they came in (page, API, a crafted circuit message), whichever feature refused them.
/// </summary>
internal sealed class Refusals(IDbContextFactory<PortalDb> dbFactory, TimeProvider clock, ILogger<Refusals> logger)
{
    /// <summary>Records the refusal of <paramref name="operation"/> (the calling method, by default) and returns it as Forbidden.</summary>
    public async Task<Failure> RefuseAsync(ClaimsPrincipal user, string message, CancellationToken ct, [CallerMemberName] string operation = "")
    {
        var id = user.FindFirst(PortalClaims.Subject)?.Value ?? "anonymous";
        var name = user.Identity?.Name ?? id;
        logger.LogWarning("Refused {Operation} for {User}: {Message}", operation, name, message);
        await using var db = dbFactory.CreateDbContext();
        AuditWriter.Write(db, new Actor(id, name), AuditActions.Denied, null,
            $"{operation.Replace("Async", "", StringComparison.Ordinal)}: {message}", DbTime.UtcNow(clock));
        await db.SaveChangesAsync(ct);
        return Fail.Forbidden(message);
    }
}

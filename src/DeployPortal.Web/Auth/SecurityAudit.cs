using DeployPortal.Web.Audit;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Auth;

/// <summary>
/// Writes sign-ins, refused sign-ins and refused tokens to the audit log, next to the slot events, so
/// "who got in, and who was turned away" is answered in the same place as "who did what".
/// </summary>
internal sealed class SecurityAudit(IDbContextFactory<PortalDb> dbFactory, TimeProvider clock, ILogger<SecurityAudit> logger)
{
    public async Task RecordAsync(string actorId, string actorName, string action, string details, CancellationToken ct = default)
    {
        logger.LogInformation("Security event {Action} for {Actor}: {Details}", action, actorName, details);
        try
        {
            await using var db = dbFactory.CreateDbContext();
            AuditWriter.Write(db, new Actor(actorId, actorName), action, null, details, clock.GetUtcNow().UtcDateTime);
            await db.SaveChangesAsync(ct);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException)
        {
            // A failed audit write must not turn a sign-in into an error page; the log line above remains.
            logger.LogError(ex, "Could not write the security audit event {Action} for {Actor}", action, actorName);
        }
    }
}

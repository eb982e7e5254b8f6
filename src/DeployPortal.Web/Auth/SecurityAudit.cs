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
            db.AuditEvents.Add(new AuditEvent
            {
                At = clock.GetUtcNow().UtcDateTime,
                ActorId = Clip(actorId, 200),
                ActorName = Clip(actorName, 200),
                Action = action,
                Details = Clip(details, 2000),
            });
            await db.SaveChangesAsync(ct);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException)
        {
            // A failed audit write must not turn a sign-in into an error page; the log line above remains.
            logger.LogError(ex, "Could not write the security audit event {Action} for {Actor}", action, actorName);
        }
    }

    private static string Clip(string value, int max) => value.Length > max ? value[..max] : value;
}

using System.Security.Claims;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace DeployPortal.Web.Auth;

/// <summary>
/// Browser sessions on the portal's database (<see cref="PortalSession"/>): the cookie handler's
/// <see cref="ITicketStore"/>, so the cookie names a session the database can end, and the tokens from the identity
/// provider never reach the browser. Sign-out, expiry, a refused refresh and an admin's revocation end the row; the
/// next request on any replica, every open page (<see cref="SessionMonitor"/>) and every state-changing action
/// (<see cref="SessionCheck"/>) then see it.
/// </summary>
internal sealed class SessionStore(
    IDbContextFactory<PortalDb> dbFactory,
    IDataProtectionProvider dataProtection,
    IMemoryCache cache,
    TimeProvider clock,
    SecurityAudit audit,
    ILogger<SessionStore> logger) : ITicketStore
{
    /// <summary>
    /// How long a session read from the database answers this replica's requests without asking again. Every page
    /// load brings a dozen asset requests, each authenticated. Ending a session drops the entry on this replica at
    /// once; another replica's requests see the end within this time, its open pages and actions at once.
    /// </summary>
    internal static readonly TimeSpan TrustFor = TimeSpan.FromSeconds(5);

    private readonly IDataProtector _protector = dataProtection.CreateProtector("DeployPortal.Sessions.v1");

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var key = Guid.NewGuid().ToString("N");
        await using var db = dbFactory.CreateDbContext();
        var now = Now;
        var session = new PortalSession
        {
            Key = key,
            SubjectId = Clip(ticket.Principal.FindFirst(PortalClaims.Subject)?.Value ?? "unknown", 200),
            Name = Clip(ticket.Principal.Identity?.Name ?? "unknown", 200),
            Roles = SessionCheck.RolesOf(ticket.Principal),
            Ticket = Protect(ticket),
            CreatedAt = now,
            IssuedAt = ticket.Properties.IssuedUtc?.UtcDateTime ?? now,
            ExpiresAt = ticket.Properties.ExpiresUtc?.UtcDateTime ?? now.AddHours(10),
            RefreshDueAt = OidcTokens.RefreshAt(ticket.Properties)?.UtcDateTime,
        };
        db.Sessions.Add(session);
        await db.SaveChangesAsync();
        return key;
    }

    /// <summary>
    /// The cookie handler renews a session when sliding expiration moves its end, and after a refresh replaced the
    /// principal. Only the times are taken from it: the ticket's content is written by <see cref="ReplaceTicketAsync"/>
    /// alone, under the version check, so a request that read the session before a refresh cannot put the used
    /// refresh token back.
    /// </summary>
    public async Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        await using var db = dbFactory.CreateDbContext();
        var issued = ticket.Properties.IssuedUtc?.UtcDateTime ?? Now;
        var expires = ticket.Properties.ExpiresUtc?.UtcDateTime ?? Now.AddHours(10);
        await db.Sessions.Where(s => s.Key == key && s.EndedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.IssuedAt, issued).SetProperty(s => s.ExpiresAt, expires));
        cache.Remove(CacheKey(key));
    }

    public async Task<AuthenticationTicket?> RetrieveAsync(string key)
    {
        var session = await FindAsync(key, useCache: true);
        return session is null ? null : Unprotect(session);
    }

    /// <summary>Sign-out (or the cookie handler finding the session expired).</summary>
    public Task RemoveAsync(string key) => EndAsync(key, "signed out");

    public async Task<bool> EndAsync(string key, string reason, CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var now = Now;
        var ended = await db.Sessions.Where(s => s.Key == key && s.EndedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.EndedAt, now).SetProperty(s => s.EndReason, Clip(reason, 300)), ct);
        cache.Remove(CacheKey(key));
        if (ended > 0)
        {
            SessionEnded?.Invoke(key);
        }

        return ended > 0;
    }

    /// <summary>Raised on this replica when a session ends here, so its open pages hear it at once.</summary>
    public event Action<string>? SessionEnded;

    /// <summary>Ends every open session of <paramref name="subjectId"/>: an admin's revocation.</summary>
    public async Task<Result<int>> EndAllForAsync(ClaimsPrincipal admin, string subjectId, CancellationToken ct = default)
    {
        if (!admin.Can(Policies.Administer))
        {
            return Fail.Forbidden("Only admins can end other people's sessions.");
        }

        await using var db = dbFactory.CreateDbContext();
        var keys = await db.Sessions.Where(s => s.SubjectId == subjectId && s.EndedAt == null).Select(s => s.Key).ToListAsync(ct);
        var actor = Actor.From(admin);
        foreach (var key in keys)
        {
            await EndAsync(key, $"ended by {actor.Name}", ct);
        }

        await audit.RecordAsync(actor.Id, actor.Name, AuditActions.SessionEnded,
            $"{actor.Name} ended {keys.Count} session{(keys.Count == 1 ? "" : "s")} of {subjectId}", ct);
        return Result<int>.Ok(keys.Count);
    }

    /// <summary>
    /// Takes the one refresh lease of the session at <paramref name="version"/>, or answers false when another request
    /// holds it or a newer version exists. A single conditional update, so it holds across requests and replicas.
    /// </summary>
    public async Task<bool> TryLeaseRefreshAsync(string key, int version, TimeSpan leaseFor, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        var now = Now;
        var until = now + leaseFor;
        return await db.Sessions
            .Where(s => s.Key == key && s.Version == version && s.EndedAt == null && (s.RefreshLeaseUntil == null || s.RefreshLeaseUntil < now))
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.RefreshLeaseUntil, until), ct) == 1;
    }

    public async Task ReleaseRefreshLeaseAsync(string key, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        await db.Sessions.Where(s => s.Key == key).ExecuteUpdateAsync(u => u.SetProperty(s => s.RefreshLeaseUntil, (DateTime?)null), ct);
    }

    /// <summary>Writes a refreshed ticket as the next version and lets the lease go.</summary>
    public async Task<bool> ReplaceTicketAsync(string key, int version, AuthenticationTicket ticket, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        var bytes = Protect(ticket);
        var roles = SessionCheck.RolesOf(ticket.Principal);
        var name = Clip(ticket.Principal.Identity?.Name ?? "unknown", 200);
        var due = OidcTokens.RefreshAt(ticket.Properties)?.UtcDateTime;
        var updated = await db.Sessions.Where(s => s.Key == key && s.Version == version && s.EndedAt == null)
            .ExecuteUpdateAsync(u => u
                .SetProperty(s => s.Ticket, bytes)
                .SetProperty(s => s.Version, version + 1)
                .SetProperty(s => s.Roles, roles)
                .SetProperty(s => s.Name, name)
                .SetProperty(s => s.RefreshDueAt, due)
                .SetProperty(s => s.RefreshLeaseUntil, (DateTime?)null), ct);
        cache.Remove(CacheKey(key));
        return updated == 1;
    }

    /// <summary>The session as stored now (no cache), with its version; null once ended or expired.</summary>
    public async Task<(AuthenticationTicket Ticket, int Version)?> ReadAsync(string key, CancellationToken ct = default)
    {
        var session = await FindAsync(key, useCache: false, ct);
        return session is not null && Unprotect(session) is { } ticket ? (ticket, session.Version) : null;
    }

    /// <summary>For <see cref="SessionMonitor"/>: the state of many sessions in one query.</summary>
    public async Task<Dictionary<string, SessionState>> StatesAsync(IReadOnlyCollection<string> keys, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        var now = Now;
        var rows = await db.Sessions.AsNoTracking().Where(s => keys.Contains(s.Key))
            .Select(s => new { s.Key, s.Roles, s.EndedAt, s.ExpiresAt, s.RefreshDueAt }).ToListAsync(ct);
        return rows.ToDictionary(r => r.Key, r => new SessionState(
            r.EndedAt is null && r.ExpiresAt > now, r.Roles, r.RefreshDueAt is { } due && due <= now));
    }

    /// <summary>Who is signed in now, one row per person, for admins.</summary>
    public async Task<Result<IReadOnlyList<SignedInPerson>>> ListSignedInAsync(ClaimsPrincipal admin, CancellationToken ct = default)
    {
        if (!admin.Can(Policies.Administer))
        {
            return Fail.Forbidden("Only admins can see who is signed in.");
        }

        await using var db = dbFactory.CreateDbContext();
        var now = Now;
        var open = await db.Sessions.AsNoTracking().Where(s => s.EndedAt == null && s.ExpiresAt > now)
            .Select(s => new { s.SubjectId, s.Name, s.Roles, s.CreatedAt }).ToListAsync(ct);
        return Result<IReadOnlyList<SignedInPerson>>.Ok([.. open.GroupBy(s => s.SubjectId)
            .Select(g => g.MaxBy(s => s.CreatedAt)!)
            .Select(s => new SignedInPerson(s.SubjectId, s.Name, s.Roles, open.Count(o => o.SubjectId == s.SubjectId), s.CreatedAt))
            .OrderBy(p => p.Name, StringComparer.OrdinalIgnoreCase)]);
    }

    /// <summary>Deletes sessions that ended or expired more than a day ago; the audit log keeps who signed in and out.</summary>
    public async Task<int> PurgeAsync(CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        var before = Now.AddDays(-1);
        return await db.Sessions.Where(s => s.ExpiresAt < before || s.EndedAt < before).ExecuteDeleteAsync(ct);
    }

    private async Task<PortalSession?> FindAsync(string key, bool useCache, CancellationToken ct = default)
    {
        if (useCache && cache.TryGetValue(CacheKey(key), out PortalSession? cached))
        {
            return cached!.ExpiresAt > Now ? cached : null;
        }

        await using var db = dbFactory.CreateDbContext();
        var now = Now;
        var session = await db.Sessions.AsNoTracking().FirstOrDefaultAsync(s => s.Key == key && s.EndedAt == null && s.ExpiresAt > now, ct);
        if (session is not null && useCache)
        {
            cache.Set(CacheKey(key), session, TrustFor);
        }

        return session;
    }

    private byte[] Protect(AuthenticationTicket ticket)
    {
        // The session claim is added on every read; the stored principal stays the one the sign-in produced.
        var principal = new ClaimsPrincipal(ticket.Principal.Identities.Select(i =>
        {
            var copy = i.Clone();
            foreach (var claim in copy.FindAll(PortalClaims.Session).ToList())
            {
                copy.RemoveClaim(claim);
            }

            return copy;
        }));
        return _protector.Protect(TicketSerializer.Default.Serialize(new AuthenticationTicket(principal, ticket.Properties, ticket.AuthenticationScheme)));
    }

    private AuthenticationTicket? Unprotect(PortalSession session)
    {
        AuthenticationTicket? ticket;
        try
        {
            ticket = TicketSerializer.Default.Deserialize(_protector.Unprotect(session.Ticket));
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            // Keys lost or rotated away: the session cannot be read, so the person signs in again.
            logger.LogWarning(ex, "Could not read session {Session}; it is treated as ended", session.Key[..8]);
            return null;
        }

        if (ticket is null)
        {
            return null;
        }

        // The row's times win: sliding expiration moves them without rewriting the ticket.
        ticket.Properties.IssuedUtc = new DateTimeOffset(session.IssuedAt, TimeSpan.Zero);
        ticket.Properties.ExpiresUtc = new DateTimeOffset(session.ExpiresAt, TimeSpan.Zero);
        if (ticket.Principal.Identity is ClaimsIdentity identity)
        {
            identity.AddClaim(new Claim(PortalClaims.Session, session.Key));
        }

        return ticket;
    }

    private static string CacheKey(string key) => "session:" + key;

    private static string Clip(string value, int max) => value.Length > max ? value[..max] : value;
}

/// <summary>A person with open sessions, as admins see them.</summary>
internal sealed record SignedInPerson(string SubjectId, string Name, string Roles, int Sessions, DateTime LatestSignIn);

/// <summary>What <see cref="SessionMonitor"/> needs to know of one session.</summary>
internal readonly record struct SessionState(bool Open, string Roles, bool RefreshDue);

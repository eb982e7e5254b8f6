using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Auth;

/// <summary>Bound from <c>Auth:AccessTokens</c>.</summary>
internal sealed class AccessTokenOptions
{
    public const string Section = "Auth:AccessTokens";

    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromDays(90);

    public int MaxActivePerUser { get; set; } = 20;
}

internal sealed class AccessTokenOptionsValidator : IValidateOptions<AccessTokenOptions>
{
    public ValidateOptionsResult Validate(string? name, AccessTokenOptions o) => new Common.OptionRules(AccessTokenOptions.Section)
        .Positive(nameof(o.MaxLifetime), o.MaxLifetime)
        .Positive(nameof(o.MaxActivePerUser), o.MaxActivePerUser)
        .Result();
}

internal sealed record AccessTokenView(long Id, string Name, string Prefix, string Roles, DateTime CreatedAt, DateTime ExpiresAt, DateTime? RevokedAt, DateTime? LastUsedAt);

/// <summary>A token with its owner, as admins see everyone's.</summary>
internal sealed record OwnedAccessTokenView(string OwnerId, string OwnerName, AccessTokenView Token);

/// <summary>The one response that carries the secret; it is never retrievable again.</summary>
internal sealed record CreatedAccessToken(AccessTokenView Token, string Secret);

internal sealed record CreateAccessTokenRequest(string Name, TimeSpan Lifetime);

/// <summary>
/// Personal access tokens: create (once-shown secret, hash stored), list and revoke one's own, and check
/// a presented secret for the authentication handler.
/// </summary>
internal sealed class AccessTokenService(
    IDbContextFactory<PortalDb> dbFactory,
    TimeProvider clock,
    IOptionsMonitor<AccessTokenOptions> options,
    IMemoryCache cache,
    ILogger<AccessTokenService> logger)
{
    /// <summary>Every secret starts with this, so secret scanners and the handler can recognise one.</summary>
    public const string SecretPrefix = "dp_";

    /// <summary>
    /// How long a token found valid is trusted without asking the database again. A pipeline sends many requests a
    /// second with one token, and the lookup was a quarter of the API's CPU. Revoking drops the entry on this replica
    /// at once; another replica (or a check that raced the revoke) accepts the revoked token for at most this long.
    /// Expiry is still checked on every request.
    /// </summary>
    internal static readonly TimeSpan TrustFor = TimeSpan.FromSeconds(5);

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task<IReadOnlyList<AccessTokenView>> ListOwnAsync(ClaimsPrincipal user, CancellationToken ct = default)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return [];
        }

        var owner = Actor.From(user).Id;
        await using var db = dbFactory.CreateDbContext();
        var tokens = await db.AccessTokens.AsNoTracking().Where(t => t.OwnerId == owner).ToListAsync(ct);
        return [.. tokens.OrderByDescending(t => t.CreatedAt).Select(ToView)];
    }

    public async Task<Result<CreatedAccessToken>> CreateAsync(ClaimsPrincipal user, CreateAccessTokenRequest request, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (user.Identity?.IsAuthenticated != true)
        {
            return Fail.Forbidden("Sign in to create a token.");
        }

        if (user.Identity.AuthenticationType == AccessTokenDefaults.Scheme)
        {
            // A leaked token must not be able to mint fresh, longer-lived ones.
            return Fail.Forbidden("A token cannot create tokens. Sign in to the portal to create one.");
        }

        var name = request.Name?.Trim() ?? "";
        if (name.Length is 0 or > AccessTokenLimits.NameMaxLength)
        {
            return Fail.Invalid($"Give the token a name of 1–{AccessTokenLimits.NameMaxLength} characters, e.g. \"ci-pipeline\".");
        }

        var max = options.CurrentValue.MaxLifetime;
        if (request.Lifetime <= TimeSpan.Zero || request.Lifetime > max)
        {
            return Fail.Invalid($"A token can live at most {TimeText.Duration(max)}.");
        }

        var actor = Actor.From(user);
        var roles = PortalRoles.All.Where(user.IsInRole).ToList();
        if (roles.Count == 0)
        {
            roles.Add(PortalRoles.Viewer);
        }

        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var active = await db.AccessTokens.CountAsync(t => t.OwnerId == actor.Id && t.RevokedAt == null && t.ExpiresAt > now, ct);
        if (active >= options.CurrentValue.MaxActivePerUser)
        {
            return Fail.Conflict($"You already have {active} active tokens. Revoke one you no longer use.");
        }

        var secret = SecretPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var token = new PersonalAccessToken
        {
            OwnerId = actor.Id,
            OwnerName = actor.Name,
            Roles = string.Join(',', roles),
            Name = name,
            Hash = Hash(secret),
            Prefix = secret[..10],
            CreatedAt = now,
            ExpiresAt = now + request.Lifetime,
        };
        db.AccessTokens.Add(token);
        AuditWriter.Write(db, actor, AuditActions.TokenCreated, null, $"\"{name}\" ({token.Prefix}…) as {token.Roles}, expires {token.ExpiresAt:u}", now);
        await db.SaveChangesAsync(ct);
        logger.LogInformation("{Actor} created access token {Token}", actor.Name, token.Prefix);
        return Result<CreatedAccessToken>.Ok(new CreatedAccessToken(ToView(token), secret));
    }

    /// <summary>Revokes one of the caller's own tokens (an admin may revoke anyone's). Revoking twice changes nothing.</summary>
    public async Task<Result<AccessTokenView>> RevokeAsync(ClaimsPrincipal user, long tokenId, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (user.Identity?.IsAuthenticated != true)
        {
            return Fail.Forbidden("Sign in to revoke a token.");
        }

        var actor = Actor.From(user);
        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var token = await db.AccessTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Id == tokenId, ct);
        if (token is null || (token.OwnerId != actor.Id && !user.Can(Policies.Administer)))
        {
            return Fail.NotFound("That token does not exist."); // someone else's token is not even confirmed to exist
        }

        var updated = await db.AccessTokens.Where(t => t.Id == tokenId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
        if (updated == 0)
        {
            return Fail.Conflict($"\"{token.Name}\" was already revoked.");
        }

        cache.Remove(CacheKey(token.Hash));
        AuditWriter.Write(db, actor, AuditActions.TokenRevoked, null, $"\"{token.Name}\" ({token.Prefix}…) of {token.OwnerName}", now);
        await db.SaveChangesAsync(ct);
        token.RevokedAt = now;
        return Result<AccessTokenView>.Ok(ToView(token));
    }

    /// <summary>Finds the token a secret belongs to, or says why it cannot be used.</summary>
    internal async Task<(PersonalAccessToken? Token, string? Refusal)> CheckAsync(string secret, CancellationToken ct)
    {
        if (!secret.StartsWith(SecretPrefix, StringComparison.Ordinal) || secret.Length > 100)
        {
            return (null, "The token is malformed.");
        }

        var hash = Hash(secret);
        var now = Now;
        if (cache.TryGetValue(CacheKey(hash), out PersonalAccessToken? trusted) && trusted!.ExpiresAt > now)
        {
            return (trusted, null);
        }

        await using var db = dbFactory.CreateDbContext();
        var token = await db.AccessTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Hash == hash, ct);
        if (token is null)
        {
            return (null, "The token is not known.");
        }

        if (token.RevokedAt is not null)
        {
            return (token, "The token was revoked.");
        }

        if (token.ExpiresAt <= now)
        {
            return (token, "The token has expired.");
        }

        // Last-used is for people deciding which tokens to revoke; minute precision is plenty and saves writes.
        if (token.LastUsedAt is null || now - token.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            await db.AccessTokens.Where(t => t.Id == token.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), ct);
            token.LastUsedAt = now;
        }

        // A token never acts with more than its owner has now: roles taken away at the identity provider (seen at their
        // latest sign-in or refresh) are taken from their tokens too.
        var current = await db.Sessions.AsNoTracking().Where(s => s.SubjectId == token.OwnerId)
            .OrderByDescending(s => s.CreatedAt).Select(s => s.Roles).FirstOrDefaultAsync(ct);
        token.Roles = EffectiveRoles(token.Roles, current);

        // Shared between requests from here on: nothing changes a cached token.
        cache.Set(CacheKey(hash), token, TrustFor);
        return (token, null);
    }

    /// <summary>
    /// The lower of the role the token was created with and the role its owner has now (roles rank Viewer, Developer,
    /// QA, Admin: each can do what the ones before it can). Unknown current roles leave the token as created.
    /// </summary>
    internal static string EffectiveRoles(string atCreation, string? now)
    {
        if (now is null)
        {
            return atCreation;
        }

        static int Rank(string roles) => roles.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(r => PortalRoles.All.ToList().IndexOf(r)).DefaultIfEmpty(0).Max();
        return PortalRoles.All[Math.Max(0, Math.Min(Rank(atCreation), Rank(now)))];
    }

    /// <summary>Every token that is still active, with its owner, for admins deciding what to revoke.</summary>
    public async Task<Result<IReadOnlyList<OwnedAccessTokenView>>> ListAllActiveAsync(ClaimsPrincipal admin, CancellationToken ct = default)
    {
        if (!admin.Can(Policies.Administer))
        {
            return Fail.Forbidden("Only admins can see everyone's tokens.");
        }

        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var tokens = await db.AccessTokens.AsNoTracking().Where(t => t.RevokedAt == null && t.ExpiresAt > now).ToListAsync(ct);
        return Result<IReadOnlyList<OwnedAccessTokenView>>.Ok(
            [.. tokens.OrderBy(t => t.OwnerName).ThenByDescending(t => t.CreatedAt).Select(t => new OwnedAccessTokenView(t.OwnerId, t.OwnerName, ToView(t)))]);
    }

    private static (string, string) CacheKey(string hash) => ("access-token", hash);

    internal static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static AccessTokenView ToView(PersonalAccessToken t) =>
        new(t.Id, t.Name, t.Prefix, t.Roles, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt);
}

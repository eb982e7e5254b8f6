using System.Security.Claims;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DeployPortal.Web.Tests.Auth;

public sealed class AccessTokenServiceTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
    private TestDatabase _database = default!;
    private AccessTokenService _tokens = default!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        _tokens = new AccessTokenService(_database.Factory, _clock,
            new TestOptionsMonitor<AccessTokenOptions>(new AccessTokenOptions { MaxLifetime = TimeSpan.FromDays(90), MaxActivePerUser = 2 }),
            new MemoryCache(new MemoryCacheOptions { Clock = new CacheClock(_clock) }), NullLogger<AccessTokenService>.Instance);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Theory]
    [InlineData("", 30)]
    [InlineData("   ", 30)]
    [InlineData("ci", 0)]
    [InlineData("ci", -1)]
    [InlineData("ci", 91)]
    public async Task Create_WithBadNameOrLifetime_IsInvalid_AndStoresNothing(string name, int days)
    {
        var result = await _tokens.CreateAsync(TestUsers.Dana, new CreateAccessTokenRequest(name, TimeSpan.FromDays(days)));

        Assert.Equal(FailureKind.Invalid, result.Failure?.Kind);
        await using var db = _database.Factory.CreateDbContext();
        Assert.False(await db.AccessTokens.AnyAsync());
    }

    [Fact]
    public async Task Create_RecordsTheCreatorsRoles_AndOnlyAHash()
    {
        var created = (await _tokens.CreateAsync(TestUsers.Quinn, new CreateAccessTokenRequest("ci", TimeSpan.FromDays(7)))).Value!;

        await using var db = _database.Factory.CreateDbContext();
        var stored = await db.AccessTokens.SingleAsync();
        Assert.Equal(("quinn", "QA", _clock.GetUtcNow().UtcDateTime.AddDays(7)), (stored.OwnerId, stored.Roles, stored.ExpiresAt));
        Assert.Equal(AccessTokenService.Hash(created.Secret), stored.Hash);
        Assert.True(created.Secret.Length > 40);
    }

    [Fact]
    public async Task Create_ByAPersonAuthenticatedWithAToken_IsForbidden()
    {
        var viaToken = new ClaimsPrincipal(new ClaimsIdentity(TestUsers.Dana.Claims, AccessTokenDefaults.Scheme, PortalClaims.Name, PortalClaims.Role));

        var result = await _tokens.CreateAsync(viaToken, new CreateAccessTokenRequest("ci", TimeSpan.FromDays(7)));

        Assert.Equal(FailureKind.Forbidden, result.Failure?.Kind);
    }

    [Fact]
    public async Task Create_BeyondTheActiveLimit_IsAConflict_UntilOneIsRevoked()
    {
        var first = (await _tokens.CreateAsync(TestUsers.Dana, new CreateAccessTokenRequest("a", TimeSpan.FromDays(7)))).Value!;
        await _tokens.CreateAsync(TestUsers.Dana, new CreateAccessTokenRequest("b", TimeSpan.FromDays(7)));

        var third = await _tokens.CreateAsync(TestUsers.Dana, new CreateAccessTokenRequest("c", TimeSpan.FromDays(7)));
        await _tokens.RevokeAsync(TestUsers.Dana, first.Token.Id);
        var fourth = await _tokens.CreateAsync(TestUsers.Dana, new CreateAccessTokenRequest("d", TimeSpan.FromDays(7)));

        Assert.Equal(FailureKind.Conflict, third.Failure?.Kind);
        Assert.True(fourth.Succeeded);
    }

    [Fact]
    public async Task Revoke_SomeoneElsesToken_IsNotFound_ButAnAdminMayRevokeIt_Once()
    {
        var token = (await _tokens.CreateAsync(TestUsers.Dana, new CreateAccessTokenRequest("ci", TimeSpan.FromDays(7)))).Value!;

        var byDevon = await _tokens.RevokeAsync(TestUsers.Devon, token.Token.Id);
        var byAda = await _tokens.RevokeAsync(TestUsers.Ada, token.Token.Id);
        var again = await _tokens.RevokeAsync(TestUsers.Ada, token.Token.Id);

        Assert.Equal(FailureKind.NotFound, byDevon.Failure?.Kind);
        Assert.True(byAda.Succeeded);
        Assert.Equal(FailureKind.Conflict, again.Failure?.Kind);
        Assert.Empty(await _tokens.ListOwnAsync(TestUsers.Devon));
        Assert.Equal(_clock.GetUtcNow().UtcDateTime, Assert.Single(await _tokens.ListOwnAsync(TestUsers.Dana)).RevokedAt);
    }

    [Fact]
    public async Task Check_AtTheExpiryInstant_RefusesTheToken()
    {
        var token = (await _tokens.CreateAsync(TestUsers.Dana, new CreateAccessTokenRequest("ci", TimeSpan.FromDays(7)))).Value!;

        var before = await _tokens.CheckAsync(token.Secret, default);
        _clock.Advance(TimeSpan.FromDays(7));
        var after = await _tokens.CheckAsync(token.Secret, default);

        Assert.Null(before.Refusal);
        Assert.Equal("The token has expired.", after.Refusal);
    }

    [Fact]
    public async Task Check_RightAfterARevoke_RefusesTheToken_ThoughItWasJustTrusted()
    {
        var token = (await _tokens.CreateAsync(TestUsers.Dana, new CreateAccessTokenRequest("ci", TimeSpan.FromDays(7)))).Value!;
        Assert.Null((await _tokens.CheckAsync(token.Secret, default)).Refusal);

        await _tokens.RevokeAsync(TestUsers.Dana, token.Token.Id);

        Assert.Equal("The token was revoked.", (await _tokens.CheckAsync(token.Secret, default)).Refusal);
    }

    [Fact]
    public async Task Check_OfATokenRevokedOnAnotherReplica_RefusesItOnceTheTrustWindowPassed()
    {
        var token = (await _tokens.CreateAsync(TestUsers.Dana, new CreateAccessTokenRequest("ci", TimeSpan.FromDays(7)))).Value!;
        Assert.Null((await _tokens.CheckAsync(token.Secret, default)).Refusal);
        await using (var db = _database.Factory.CreateDbContext())
        {
            // What another replica's revoke writes; this replica's trusted copy does not hear of it.
            await db.AccessTokens.ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, _clock.GetUtcNow().UtcDateTime));
        }

        var within = await _tokens.CheckAsync(token.Secret, default);
        _clock.Advance(AccessTokenService.TrustFor);
        var after = await _tokens.CheckAsync(token.Secret, default);

        Assert.Null(within.Refusal);
        Assert.Equal("The token was revoked.", after.Refusal);
    }

#pragma warning disable CS0618 // MemoryCacheOptions.Clock is the cache's only time source (no TimeProvider yet)
    private sealed class CacheClock(TimeProvider time) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
#pragma warning restore CS0618
}

using System.Net.Http.Headers;
using System.Security.Claims;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace DeployPortal.Web.Tests.Api;

/// <summary>One running portal for the API tests, with helpers to mint tokens and add slots.</summary>
public class ApiHost : IAsyncLifetime
{
    protected virtual DatabaseProvider Provider => DatabaseProvider.Sqlite;

    private int _slotCounter;

    public TestDatabase Database { get; private set; } = default!;
    public PortalHost Host { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync(Provider);
        Host = new PortalHost(Database, settings: new Dictionary<string, string?> { ["Database:SeedDemoSlots"] = "false" });
        Host.Start();
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Database.DisposeAsync();
    }

    /// <summary>A token created the way the profile page creates one, for <paramref name="user"/>.</summary>
    internal async Task<CreatedAccessToken> CreateTokenAsync(ClaimsPrincipal user, TimeSpan? lifetime = null)
    {
        await using var scope = Host.Services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<AccessTokenService>();
        var result = await tokens.CreateAsync(user, new CreateAccessTokenRequest("test " + Guid.NewGuid().ToString("N")[..6], lifetime ?? TimeSpan.FromDays(1)));
        Assert.True(result.Succeeded, result.Failure?.Message);
        return result.Value!;
    }

    /// <summary>An API client with a fresh token of <paramref name="user"/>.</summary>
    public async Task<HttpClient> ClientAsync(ClaimsPrincipal user) => Client((await CreateTokenAsync(user)).Secret);

    internal async Task<T> WithTokensAsync<T>(Func<AccessTokenService, Task<T>> action)
    {
        await using var scope = Host.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<AccessTokenService>());
    }

    public HttpClient Client(string? token = null)
    {
        var client = Host.CreateLoopbackClient();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async Task<Slot> AddSlotAsync()
    {
        var name = "api-" + Interlocked.Increment(ref _slotCounter);
        await using var db = Database.Factory.CreateDbContext();
        var slot = new Slot { Name = name, Namespace = name, CreatedAt = DateTime.UtcNow };
        db.Slots.Add(slot);
        await db.SaveChangesAsync();
        return slot;
    }
}

/// <summary>The same portal on PostgreSQL, where times are kept to the microsecond and NUL is refused.</summary>
public sealed class PostgresApiHost : ApiHost
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace DeployPortal.Web.Tests.Api;

/// <summary>
/// The database goes away under a running portal (PostgreSQL behind a TCP forwarder that the test cuts, as a network
/// outage or a crashed server does): the API answers 503 with Retry-After and a sentence, never an exception.
/// </summary>
public sealed class DatabaseOutageTests
{
    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task Api_WhileTheDatabaseIsDown_Answers503WithRetryAfter_AndNoExceptionInTheBody(string environment)
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var proxy = new TcpProxy(target.Host!, target.Port);
        var viaProxy = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port, Timeout = 3 }.ConnectionString;
        await using var host = new PortalHost(database, environment, new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = viaProxy,
            ["Database:SeedDemoSlots"] = "false",
            ["Auth:DevSignIn:Enabled"] = environment == "Development" ? "true" : "false",
        });
        host.Start();
        int slotId;
        await using (var db = database.Factory.CreateDbContext())
        {
            var slot = new Slot { Name = "outage", Namespace = "outage", CreatedAt = DateTime.UtcNow };
            db.Slots.Add(slot);
            await db.SaveChangesAsync();
            slotId = slot.Id;
        }

        string secret;
        await using (var scope = host.Services.CreateAsyncScope())
        {
            secret = (await scope.ServiceProvider.GetRequiredService<AccessTokenService>()
                .CreateAsync(TestUsers.Dana, new CreateAccessTokenRequest("outage", TimeSpan.FromDays(1)))).Value!.Secret;
        }

        using var client = host.CreateLoopbackClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/slots")).StatusCode);

        proxy.Cut();
        var claim = await client.PostAsJsonAsync($"/api/v1/slots/{slotId}/claim", new { purpose = "during the outage" });
        var list = await client.GetAsync("/api/v1/slots");
        var deploy = await client.PostAsJsonAsync("/api/v1/deployments", new { app = "storefront", branch = "main", slot = "outage", purpose = "x" });

        foreach (var response in new[] { claim, list, deploy })
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{response.RequestMessage!.RequestUri}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(response.Headers.RetryAfter?.Delta);
            Assert.Contains("The database did not answer; nothing was changed.", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
            foreach (var leak in new[] { "Exception", "   at ", "Npgsql", "System." })
            {
                Assert.DoesNotContain(leak, body);
            }
        }

        await using var check = database.Factory.CreateDbContext();
        Assert.False(await check.Holds.AnyAsync(h => h.SlotId == slotId));
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DeployPortal.Web.Tests.Api;

/// <summary>The portal as run in Development and in Production, side by side, on one SQLite database each.</summary>
public sealed class TwoEnvironmentHosts : IAsyncLifetime
{
    private readonly Dictionary<string, (TestDatabase Database, PortalHost Host)> _hosts = [];

    public async Task InitializeAsync()
    {
        foreach (var environment in new[] { "Development", "Production" })
        {
            var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
            var host = new PortalHost(database, environment, new Dictionary<string, string?>
            {
                ["Database:SeedDemoSlots"] = "false",
                ["Auth:DevSignIn:Enabled"] = environment == "Development" ? "true" : "false",
            });
            host.Start();
            _hosts[environment] = (database, host);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var (database, host) in _hosts.Values)
        {
            await host.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    public TestDatabase Database(string environment) => _hosts[environment].Database;

    public async Task<HttpClient> ClientAsync(string environment, System.Security.Claims.ClaimsPrincipal user)
    {
        var host = _hosts[environment].Host;
        await using var scope = host.Services.CreateAsyncScope();
        var created = await scope.ServiceProvider.GetRequiredService<AccessTokenService>()
            .CreateAsync(user, new CreateAccessTokenRequest("input " + Guid.NewGuid().ToString("N")[..6], TimeSpan.FromDays(1)));
        var client = host.CreateLoopbackClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created.Value!.Secret);
        return client;
    }

    public async Task<Slot> AddSlotAsync(string environment)
    {
        await using var db = Database(environment).Factory.CreateDbContext();
        var name = "in-" + Guid.NewGuid().ToString("N")[..8];
        var slot = new Slot { Name = name, Namespace = name, CreatedAt = DateTime.UtcNow };
        db.Slots.Add(slot);
        await db.SaveChangesAsync();
        return slot;
    }
}

/// <summary>
/// Hostile and broken requests as a script or a careless client sends them: every 4xx is problem details naming
/// the field and what it expects, the same in Production as in Development, and nothing is changed.
/// </summary>
public sealed class ApiInputTests(TwoEnvironmentHosts hosts) : IClassFixture<TwoEnvironmentHosts>
{
    public static TheoryData<string, string, string?, string> BadClaimBodies()
    {
        var data = new TheoryData<string, string, string?, string>();
        foreach (var environment in new[] { "Development", "Production" })
        {
            data.Add(environment, "{\"purpose\": ", null, "not valid JSON");
            data.Add(environment, "{\"purpose\": \"x\",}", null, "not valid JSON");
            data.Add(environment, "{\"purpose\": 42}", "purpose", "purpose: expected text");
            data.Add(environment, "{\"purpose\": \"x\", \"duration\": \"soon\"}", "duration", "duration: expected a duration in quotes as hh:mm:ss");
            data.Add(environment, "{\"purpose\": \"x\", \"duration\": 3600}", "duration", "duration: expected a duration");
            data.Add(environment, "{\"purpose\": \"x\", \"purpose\": \"y\"}", null, "purpose: appears more than once");
            data.Add(environment, "[\"x\"]", null, "must be a JSON object with the fields purpose");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadClaimBodies))]
    public async Task Claim_WithABrokenBody_Answers400Problem_NamingTheFieldAndWhatItExpects(string environment, string body, string? field, string expected)
    {
        var slot = await hosts.AddSlotAsync(environment);
        using var client = await hosts.ClientAsync(environment, TestUsers.Dana);

        var response = await client.PostAsync($"/api/v1/slots/{slot.Id}/claim", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, expected);
        if (field is not null)
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        }

        await AssertNoHoldAsync(environment, slot.Id);
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task Claim_WithInvalidUtf8_Answers400Problem_NamingTheByte(string environment)
    {
        var slot = await hosts.AddSlotAsync(environment);
        using var client = await hosts.ClientAsync(environment, TestUsers.Dana);
        byte[] body = [.. "{\"purpose\": \"pay"u8, 0xC3, 0x28, .. "\"}"u8];

        var response = await client.PostAsync($"/api/v1/slots/{slot.Id}/claim", new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } });

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "not valid UTF-8: byte 17");
        await AssertNoHoldAsync(environment, slot.Id);
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task Claim_WithoutBodyOrAsAForm_AnswersProblem_SayingWhatToSend(string environment)
    {
        var slot = await hosts.AddSlotAsync(environment);
        using var client = await hosts.ClientAsync(environment, TestUsers.Dana);

        var empty = await client.PostAsync($"/api/v1/slots/{slot.Id}/claim", null);
        var form = await client.PostAsync($"/api/v1/slots/{slot.Id}/claim", new StringContent("purpose=x", Encoding.UTF8, "application/x-www-form-urlencoded"));

        await AssertProblemAsync(empty, HttpStatusCode.BadRequest, "Send a JSON object in the body with the fields purpose");
        await AssertProblemAsync(form, HttpStatusCode.UnsupportedMediaType, "Content-Type: application/json");
        await AssertNoHoldAsync(environment, slot.Id);
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task Query_OfTheWrongType_Answers400Problem_NamingTheParameter(string environment)
    {
        using var client = await hosts.ClientAsync(environment, TestUsers.Dana);

        var response = await client.GetAsync("/api/v1/deployments?take=lots");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "take: expected a whole number, not \"lots\"");
        Assert.True(problem.GetProperty("errors").TryGetProperty("take", out _));
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task Path_WithAnEncodedNul_IsRefusedByKestrelBeforeThePortal_With400AndNoBody(string environment)
    {
        // Kestrel refuses a path that decodes to NUL while parsing the request line (PathContainsNullCharacters),
        // before any middleware runs, so the portal cannot give it a problem body. This pins what a client gets.
        using var client = await hosts.ClientAsync(environment, TestUsers.Dana);

        var response = await client.GetAsync("/api/v1/apps/a%00b/branches");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("Development", 7)]
    [InlineData("Production", -1)]
    public async Task QaRelease_WithAnIntegerOutcome_Answers400Problem_ListingTheNames_AndReleasesNothing(string environment, int outcome)
    {
        var slot = await hosts.AddSlotAsync(environment);
        var hold = await Matrix.AddHoldAsync(hosts.Database(environment).Factory, slot.Id, TestUsers.Devon, DateTime.UtcNow);
        using var qa = await hosts.ClientAsync(environment, TestUsers.Quinn);

        var asNumber = await qa.PostAsync($"/api/v1/slots/{slot.Id}/release",
            new StringContent($"{{\"holdId\": {hold.Id}, \"outcome\": {outcome}}}", Encoding.UTF8, "application/json"));
        var asDigits = await qa.PostAsync($"/api/v1/slots/{slot.Id}/release",
            new StringContent($"{{\"holdId\": {hold.Id}, \"outcome\": \"{outcome}\"}}", Encoding.UTF8, "application/json"));

        await AssertProblemAsync(asNumber, HttpStatusCode.BadRequest, "outcome: expected one of \"Pass\", \"Fail\"");
        await AssertProblemAsync(asDigits, HttpStatusCode.BadRequest, "outcome: expected one of");
        await using var db = hosts.Database(environment).Factory.CreateDbContext();
        Assert.Null((await db.Holds.AsNoTracking().SingleAsync(h => h.Id == hold.Id)).ReleasedAt);
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task Claim_WithAMegabyteOfWhitespaceAroundAValidBody_Answers413Problem_AndClaimsNothing(string environment)
    {
        var slot = await hosts.AddSlotAsync(environment);
        using var client = await hosts.ClientAsync(environment, TestUsers.Dana);
        var padding = new string(' ', 512 * 1024);

        var response = await client.PostAsync($"/api/v1/slots/{slot.Id}/claim",
            new StringContent(padding + "{\"purpose\": \"big\"}" + padding, Encoding.UTF8, "application/json"));

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "at most 64 KB");
        await AssertNoHoldAsync(environment, slot.Id);
    }

    [Fact]
    public async Task Claim_WithAChunkedBodyPastTheCap_Answers413Problem()
    {
        // No Content-Length, so the cap is only found while reading.
        var slot = await hosts.AddSlotAsync("Production");
        using var client = await hosts.ClientAsync("Production", TestUsers.Dana);
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"purpose\": \"" + new string('x', 100_000) + "\"}")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/slots/{slot.Id}/claim") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await client.SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "at most 64 KB");
        await AssertNoHoldAsync("Production", slot.Id);
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task Claim_ForOneSecond_Answers400_NamingTheShortestHold(string environment)
    {
        var slot = await hosts.AddSlotAsync(environment);
        using var client = await hosts.ClientAsync(environment, TestUsers.Dana);

        var response = await client.PostAsync($"/api/v1/slots/{slot.Id}/claim", new StringContent("{\"purpose\": \"x\", \"duration\": \"00:00:01\"}", Encoding.UTF8, "application/json"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "A hold lasts at least 5 min");
        await AssertNoHoldAsync(environment, slot.Id);
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task Deploy_IntoASlotNameThatDoesNotExist_Answers404_SayingSo(string environment)
    {
        using var client = await hosts.ClientAsync(environment, TestUsers.Dana);

        var unknown = await client.PostAsync("/api/v1/deployments", new StringContent("{\"app\": \"storefront\", \"branch\": \"main\", \"slot\": \"qa-99\"}", Encoding.UTF8, "application/json"));
        var unnamed = await client.PostAsync("/api/v1/deployments", new StringContent("{\"app\": \"storefront\", \"branch\": \"main\"}", Encoding.UTF8, "application/json"));

        await AssertProblemAsync(unknown, HttpStatusCode.NotFound, "There is no slot called \"qa-99\"");
        await AssertProblemAsync(unnamed, HttpStatusCode.BadRequest, "Name the slot");
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Contains(expected, problem.GetProperty("detail").GetString());
        // Never the framework's own sentences, an exception's name or a stack trace.
        foreach (var leak in new[] { "Exception", "Implicit body", "Failed to read", "   at ", "System." })
        {
            Assert.DoesNotContain(leak, body);
        }

        return problem;
    }

    private async Task AssertNoHoldAsync(string environment, int slotId)
    {
        await using var db = hosts.Database(environment).Factory.CreateDbContext();
        Assert.False(await db.Holds.AnyAsync(h => h.SlotId == slotId));
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Api;

public sealed class SlotsApiTests(ApiHost api) : IClassFixture<ApiHost>
{
    [Fact]
    public async Task Api_WithoutToken_Returns401ProblemDetails_WithABearerChallenge()
    {
        using var client = api.Client();

        var response = await client.GetAsync("/api/v1/slots");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Null(response.Headers.Location); // never a redirect to the sign-in page
    }

    [Theory]
    [InlineData("dp_not-a-real-token")]
    [InlineData("ghp_wrongprefix")]
    [InlineData("dp_")]
    public async Task Api_WithUnknownOrMalformedToken_Returns401(string token)
    {
        using var client = api.Client(token);

        var response = await client.GetAsync("/api/v1/slots");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Api_WithValidToken_ListsSlots_AsTheTokensCreator()
    {
        var slot = await api.AddSlotAsync();
        var token = await api.CreateTokenAsync(TestUsers.Viewer);
        using var client = api.Client(token.Secret);

        var slots = await client.GetFromJsonAsync<JsonElement>("/api/v1/slots");

        Assert.Contains(slots.EnumerateArray(), s => s.GetProperty("name").GetString() == slot.Name);
        Assert.StartsWith("dp_", token.Secret);
        await using var db = api.Database.Factory.CreateDbContext();
        var stored = await db.AccessTokens.SingleAsync(t => t.Id == token.Token.Id);
        Assert.NotEqual(token.Secret, stored.Hash);
        Assert.DoesNotContain(token.Secret, stored.Hash + stored.Prefix + stored.Name);
    }

    [Fact]
    public async Task Api_WithRevokedToken_Returns401_AndTheAttemptIsAudited()
    {
        var token = await api.CreateTokenAsync(TestUsers.Dana);
        using var client = api.Client(token.Secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/slots")).StatusCode);

        var revoked = await api.WithTokensAsync(t => t.RevokeAsync(TestUsers.Dana, token.Token.Id));
        var response = await client.GetAsync("/api/v1/slots");

        Assert.True(revoked.Succeeded);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("revoked", await response.Content.ReadAsStringAsync());
        await using var db = api.Database.Factory.CreateDbContext();
        Assert.Contains(await db.AuditEvents.Where(a => a.Action == AuditActions.TokenRefused).ToListAsync(), a => a.Details.Contains(token.Token.Prefix));
    }

    [Fact]
    public async Task Api_WithExpiredToken_Returns401()
    {
        var token = await api.CreateTokenAsync(TestUsers.Dana);
        await using (var db = api.Database.Factory.CreateDbContext())
        {
            await db.AccessTokens.Where(t => t.Id == token.Token.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTime.UtcNow.AddMinutes(-1)));
        }

        using var client = api.Client(token.Secret);
        var response = await client.GetAsync("/api/v1/slots");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("expired", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Api_SessionCookie_IsNotAcceptedForTheApi()
    {
        // Cookies would make the API reachable by cross-site form posts; only bearer tokens count.
        using var client = api.Client();
        var signIn = await client.GetStringAsync("/signin");
        var antiforgery = System.Text.RegularExpressions.Regex.Match(signIn, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        await client.PostAsync("/account/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = "ada", ["__RequestVerificationToken"] = antiforgery }));

        var response = await client.GetAsync("/api/v1/slots");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Api_ClaimExtendRelease_AsDeveloper_Works()
    {
        var slot = await api.AddSlotAsync();
        var token = await api.CreateTokenAsync(TestUsers.Devon);
        using var client = api.Client(token.Secret);

        var claim = await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/claim", new { purpose = "ci run 42", duration = "01:00:00" });
        var extend = await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/extend", new { by = "00:30:00" });
        var release = await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/release", new { });

        Assert.Equal(HttpStatusCode.Created, claim.StatusCode);
        var hold = await claim.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Devon Developer", hold.GetProperty("holderName").GetString());
        Assert.Equal(HttpStatusCode.OK, extend.StatusCode);
        Assert.Equal(HttpStatusCode.OK, release.StatusCode);
        Assert.Equal("Released", (await release.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());
        await using var db = api.Database.Factory.CreateDbContext();
        var stored = await db.Holds.SingleAsync(h => h.SlotId == slot.Id);
        Assert.Equal((ReleaseReason.Released, TimeSpan.FromMinutes(90)), (stored.ReleaseReason!.Value, stored.Until - stored.Since));
    }

    [Fact]
    public async Task Api_ClaimOfAHeldSlot_Returns409ProblemDetails_NamingTheHolder()
    {
        var slot = await api.AddSlotAsync();
        using var dana = api.Client((await api.CreateTokenAsync(TestUsers.Dana)).Secret);
        using var devon = api.Client((await api.CreateTokenAsync(TestUsers.Devon)).Secret);
        await dana.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/claim", new { purpose = "first" });

        var response = await devon.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/claim", new { purpose = "second" });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(409, problem.GetProperty("status").GetInt32());
        Assert.Contains("Dana Developer", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("{\"purpose\": ", "application/json")]                          // truncated JSON
    [InlineData("{\"purpose\": 42}", "application/json")]                       // wrong type
    [InlineData("{\"purpose\": \"x\", \"duration\": \"soon\"}", "application/json")] // not a duration
    [InlineData("{\"purpose\": \"x\", \"duration\": \"-01:00:00\"}", "application/json")]
    [InlineData("{\"purpose\": \"x\", \"duration\": \"30.00:00:00\"}", "application/json")] // beyond the maximum hold
    [InlineData("{}", "application/json")]                                      // no purpose
    [InlineData("purpose=x", "application/x-www-form-urlencoded")]              // not JSON at all
    public async Task Api_ClaimWithMalformedPayload_Returns4xxProblemDetails_AndClaimsNothing(string body, string contentType)
    {
        var slot = await api.AddSlotAsync();
        using var client = api.Client((await api.CreateTokenAsync(TestUsers.Dana)).Secret);

        var response = await client.PostAsync($"/api/v1/slots/{slot.Id}/claim", new StringContent(body, Encoding.UTF8, contentType));

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, $"{response.StatusCode} {response.Headers.Location}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        await using var db = api.Database.Factory.CreateDbContext();
        Assert.False(await db.Holds.AnyAsync(h => h.SlotId == slot.Id));
    }

    [Theory]
    [InlineData("GET", "/api/v1/nothing-here", HttpStatusCode.NotFound)]
    [InlineData("DELETE", "/api/v1/slots", HttpStatusCode.MethodNotAllowed)]
    public async Task Api_UnknownRouteOrMethod_ReturnsProblemDetails_NotTheSignInPage(string method, string path, HttpStatusCode expected)
    {
        using var client = api.Client((await api.CreateTokenAsync(TestUsers.Dana)).Secret);

        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Api_UnknownSlot_Returns404ProblemDetails()
    {
        using var client = api.Client((await api.CreateTokenAsync(TestUsers.Dana)).Secret);

        var response = await client.PostAsJsonAsync("/api/v1/slots/999999/claim", new { purpose = "x" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [MemberData(nameof(Matrix.ApiCases), MemberType = typeof(Matrix))]
    public async Task Api_EverySlotOperationAsEveryRole_IsAllowedOnlyForTheRolesInTheTable(string role, string operation, bool allowed)
    {
        var actor = Matrix.Actor(role);
        var slot = await api.AddSlotAsync();
        var now = DateTime.UtcNow;
        var hold = operation switch
        {
            Matrix.ExtendOwn or Matrix.ReleaseOwn => await Matrix.AddHoldAsync(api.Database.Factory, slot.Id, actor, now),
            Matrix.Claim => null,
            _ => await Matrix.AddHoldAsync(api.Database.Factory, slot.Id, TestUsers.Devon, now),
        };
        using var client = api.Client((await api.CreateTokenAsync(actor)).Secret);
        var before = await SlotStateAsync(slot.Id);

        var response = operation switch
        {
            Matrix.Claim => await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/claim", new { purpose = "matrix" }),
            Matrix.ExtendOwn or Matrix.ExtendOthers => await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/extend", new { by = "01:00:00", holdId = hold!.Id }),
            Matrix.QaReleaseOthers => await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/release", new { holdId = hold!.Id, outcome = "Pass" }),
            _ => await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/release", new { holdId = hold!.Id }),
        };

        var after = await SlotStateAsync(slot.Id);
        if (allowed)
        {
            Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            Assert.NotEqual(before, after);
        }
        else
        {
            Assert.Equal(role == Web.Auth.PortalRoles.QA && operation == Matrix.ForceReleaseOthers ? HttpStatusCode.BadRequest : HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(before, after);
        }
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheSlotEndpoints_AndTheBearerScheme()
    {
        using var client = api.Client();

        var response = await client.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.Content.ReadFromJsonAsync<JsonElement>();
        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/slots/{slotId}/claim", out _));
        Assert.True(paths.TryGetProperty("/api/v1/slots", out _));
        Assert.False(paths.TryGetProperty("/account/dev-signin", out _));
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
    }

    private async Task<string> SlotStateAsync(int slotId)
    {
        await using var db = api.Database.Factory.CreateDbContext();
        var holds = await db.Holds.AsNoTracking().Where(h => h.SlotId == slotId).OrderBy(h => h.Id).ToListAsync();
        return string.Join('\n', holds.Select(h => $"{h.Id}:{h.HolderId}:{h.Until:O}:{h.ReleasedAt:O}:{h.ReleaseReason}:{h.QaOutcome}"));
    }
}

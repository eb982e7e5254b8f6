using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Api;

/// <summary>What a CI pipeline does: list branches, deploy with a token, follow the deployment until it ends.</summary>
public sealed class DeploymentsApiTests : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private DeployHarness _h = default!;

    public async Task InitializeAsync() => _h = await DeployHarness.CreateAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Deploy_WithAToken_IsQueuedAndCanBeFollowedToSucceeded()
    {
        using var ci = await ClientAsync(TestUsers.Dana);

        var branches = await ci.GetFromJsonAsync<List<JsonElement>>("/api/v1/apps/payments/branches", Json);
        Assert.Contains(branches!, b => b.GetProperty("name").GetString() == "feature/login");

        var response = await ci.PostAsJsonAsync("/api/v1/deployments", new { app = "payments", branch = "feature/login", slot = "qa-1", purpose = "ci run 42" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var queued = (await response.Content.ReadFromJsonAsync<DeploymentView>(Json))!;
        Assert.Equal(response.Headers.Location!.OriginalString, $"/api/v1/deployments/{queued.Id}");

        var done = await _h.WaitFinishedAsync(queued.Id);
        var followed = await ci.GetFromJsonAsync<DeploymentView>(response.Headers.Location, Json);
        Assert.Equal(DeploymentState.Succeeded, done.State);
        Assert.Equal(DeploymentState.Succeeded, followed!.State);
        Assert.Equal("Dana Developer", followed.RequestedByName);
    }

    [Fact]
    public async Task Deploy_BadOrForbiddenRequests_GetProblemDetails_AndQueueNothing()
    {
        using var dana = await ClientAsync(TestUsers.Dana);
        using var viewer = await ClientAsync(TestUsers.Viewer);
        using var anonymous = _h.Host.CreateLoopbackClient();

        var unknownBranch = await dana.PostAsJsonAsync("/api/v1/deployments", new { app = "payments", branch = "--upload-pack=x", slot = "qa-1", purpose = "x" });
        var noSlot = await dana.PostAsJsonAsync("/api/v1/deployments", new { app = "payments", branch = "main" });
        var malformed = await dana.PostAsync("/api/v1/deployments", new StringContent("{\"app\": 42,", System.Text.Encoding.UTF8, "application/json"));
        var asViewer = await viewer.PostAsJsonAsync("/api/v1/deployments", new { app = "payments", branch = "main", slot = "qa-1", purpose = "x" });
        var withoutToken = await anonymous.PostAsJsonAsync("/api/v1/deployments", new { app = "payments", branch = "main", slot = "qa-1", purpose = "x" });
        var unknownApp = await dana.GetAsync("/api/v1/apps/nope/branches");

        Assert.Equal(HttpStatusCode.BadRequest, unknownBranch.StatusCode);
        Assert.Contains("has no branch called", (await unknownBranch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, noSlot.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, asViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutToken.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownApp.StatusCode);
        Assert.Equal("application/problem+json", asViewer.Content.Headers.ContentType?.MediaType);

        await using var db = _h.Database.Factory.CreateDbContext();
        Assert.Equal(0, await db.Deployments.CountAsync());
    }

    private Task<HttpClient> ClientAsync(ClaimsPrincipal user) => _h.Host.TokenClientAsync(user);
}

using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using DeployPortal.Web.Waitlist;
using Microsoft.Extensions.DependencyInjection;

namespace DeployPortal.Web.Tests.Api;

/// <summary>The queue for CI: join with a chosen hold length, list, follow and leave, with a token; errors as problem details.</summary>
public sealed class QueueApiTests : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private DeployHarness _h = default!;

    public async Task InitializeAsync()
    {
        _h = await DeployHarness.CreateAsync();
        // Every slot is taken: joining waits.
        var slots = _h.Service<HoldActions>(out var scope);
        var board = scope.ServiceProvider.GetRequiredService<BoardQueries>();
        using (scope)
        {
            foreach (var slot in await board.GetBoardAsync())
            {
                Assert.True((await slots.ClaimAsync(TestUsers.Ada, new ClaimRequest(slot.Id, "soak test", null))).Succeeded);
            }
        }
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Queue_JoinListFollowAndLeave_WithAToken()
    {
        using var ci = await ClientAsync(TestUsers.Devon);

        var joined = await ci.PostAsJsonAsync("/api/v1/queue", new { app = "payments", branch = "feature/login", purpose = "ci run 7", holdFor = "02:00:00" });

        Assert.Equal(HttpStatusCode.Created, joined.StatusCode);
        var entry = (await joined.Content.ReadFromJsonAsync<QueueEntryView>(Json))!;
        Assert.Equal($"/api/v1/queue/{entry.Id}", joined.Headers.Location!.OriginalString);
        Assert.Equal((WaitlistState.Waiting, 1, TimeSpan.FromHours(2), "any slot"), (entry.State, entry.Position, entry.HoldFor, entry.Target));

        var queue = (await ci.GetFromJsonAsync<QueueView>("/api/v1/queue", Json))!;
        Assert.Equal(entry.Id, Assert.Single(queue.Waiting).Id);
        Assert.Equal(WaitlistState.Waiting, (await ci.GetFromJsonAsync<QueueEntryView>(joined.Headers.Location, Json))!.State);

        var left = await ci.DeleteAsync(joined.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, left.StatusCode);
        Assert.Equal(WaitlistState.Left, (await left.Content.ReadFromJsonAsync<QueueEntryView>(Json))!.State);

        var again = await ci.DeleteAsync(joined.Headers.Location);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        Assert.Empty((await ci.GetFromJsonAsync<QueueView>("/api/v1/queue", Json))!.Waiting);
    }

    [Fact]
    public async Task Queue_BadOrForbiddenRequests_GetProblemDetails_AndQueueNothing()
    {
        using var dana = await ClientAsync(TestUsers.Dana);
        using var viewer = await ClientAsync(TestUsers.Viewer);

        var unknownApp = await dana.PostAsJsonAsync("/api/v1/queue", new { app = "nope", branch = "main", purpose = "x" });
        var tooLong = await dana.PostAsJsonAsync("/api/v1/queue", new { app = "payments", branch = "main", purpose = "x", holdFor = "30.00:00:00" });
        var unknownSlot = await dana.PostAsJsonAsync("/api/v1/queue", new { app = "payments", branch = "main", purpose = "x", slot = "qa-99" });
        var asViewer = await viewer.PostAsJsonAsync("/api/v1/queue", new { app = "payments", branch = "main", purpose = "x" });
        var unknownEntry = await dana.DeleteAsync("/api/v1/queue/424242");

        Assert.Equal(
            [HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.NotFound, HttpStatusCode.Forbidden, HttpStatusCode.NotFound],
            new[] { unknownApp, tooLong, unknownSlot, asViewer, unknownEntry }.Select(r => r.StatusCode));
        Assert.All(new[] { unknownApp, tooLong, unknownSlot, asViewer, unknownEntry },
            r => Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType));
        Assert.Contains("at most", (await tooLong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Empty((await dana.GetFromJsonAsync<QueueView>("/api/v1/queue", Json))!.Waiting);
    }

    private Task<HttpClient> ClientAsync(ClaimsPrincipal user) => _h.Host.TokenClientAsync(user);
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Registry;
using DeployPortal.Web.Tests.Infrastructure;
using DeployPortal.Web.Waitlist;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace DeployPortal.Web.Tests.Registry;

/// <summary>
/// "Deploy as soon as it is built" against Debian's real registry, the emulator and the real portal: the deployment
/// waits (holding its slot), is checked with backoff on a fake clock, starts by the digest found when the image
/// appears, can be cancelled, gives up at the limit, survives a restart, and starts at once on the registry's own
/// push notification. The waitlist's hand-over goes through the same check.
/// </summary>
public sealed class DeployWhenBuiltTests : IAsyncLifetime
{
    private const string User = "ci";
    private const string Password = "wait-pass";
    private const string EventsToken = "registry-events-shared-secret";
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly int _portalPort = RegistryServer.FreePort();
    private RegistryServer? _registry;
    private WebhookReceiver _webhooks = default!;
    private DeployHarness _h = default!;

    public async Task InitializeAsync()
    {
        _webhooks = await WebhookReceiver.StartAsync();
        _h = await DeployHarness.CreateAsync(startHost: false);
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        await _webhooks.DisposeAsync();
    }

    private RegistryServer Registry => _registry!;

    /// <param name="notify">The registry tells the portal about every push, as docker-compose wires it; without, only the backoff checks see a push.</param>
    private async Task StartAsync(bool notify)
    {
        _registry = await RegistryServer.StartAsync(User, Password,
            notify: notify ? (new Uri($"http://127.0.0.1:{_portalPort}/api/v1/registry/events"), EventsToken) : null);
        StartPortal();
    }

    private PortalHost StartPortal() => _h.StartHost(new Dictionary<string, string?>(RegistryHarness.For(Registry.Host, User, Password))
    {
        ["Apps:Items:0:ImageRepository"] = $"{Registry.Host}/shop/storefront",
        ["Apps:Items:1:ImageRepository"] = $"{Registry.Host}/shop/payments",
        ["Registry:Timeout"] = "00:00:05",
        ["Registry:EventsToken"] = EventsToken,
        ["Notifications:Webhooks:0:Name"] = "team",
        ["Notifications:Webhooks:0:Url"] = _webhooks.Url.ToString(),
        ["Notifications:Webhooks:0:Events:0"] = "ImageBuilt",
        ["Notifications:Webhooks:0:Events:1"] = "DeployFailed",
    }, services: s => s.AddSingleton<TimeProvider>(_clock), port: _portalPort);

    private string Image(string repository) => $"{Registry.Host}/{repository}:main";

    private async Task<DeploymentView> DeployWhenBuiltAsync(string app = "payments", string slot = "qa-2")
    {
        var service = _h.Service<DeploymentService>(out var scope);
        using (scope)
        {
            var created = await service.CreateAsync(TestUsers.Dana, new DeployRequest(app, "main", await _h.SlotIdAsync(slot), "wait for CI", TimeSpan.FromHours(2), WhenBuilt: true));
            Assert.True(created.Succeeded, created.Failure?.Message);
            return created.Value!;
        }
    }

    /// <summary>
    /// Moves the fake clock in steps the watcher sees (it looks every 5 s), and waits until the deployment gets there.
    /// With <paramref name="untilStarted"/> the clock stands still once the deployment has left WaitingForImage: moved on
    /// while the started job runs, the job's own timers and lease moved with it, and one clean-clone run was left Running
    /// after all four steps had succeeded.
    /// </summary>
    private async Task<DeploymentView> AdvanceUntilAsync(long id, TimeSpan by, Func<DeploymentView, bool> condition, bool untilStarted = false)
    {
        for (var moved = TimeSpan.Zero; moved < by; moved += TimeSpan.FromSeconds(5))
        {
            _clock.Advance(TimeSpan.FromSeconds(5));
            if (untilStarted && await StartedAsync(id))
            {
                break;
            }
        }

        return await _h.WaitForAsync(id, condition);
    }

    /// <summary>Whether the deployment leaves WaitingForImage within a second of the last clock step.</summary>
    private async Task<bool> StartedAsync(long id)
    {
        try
        {
            await _h.WaitForAsync(id, d => d.State != DeploymentState.WaitingForImage, TimeSpan.FromSeconds(1));
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    [Fact]
    public async Task It_waits_holding_the_slot_is_checked_again_and_deploys_the_digest_found_when_the_image_appears()
    {
        await StartAsync(notify: false);
        var waiting = await DeployWhenBuiltAsync();

        Assert.Equal(DeploymentState.WaitingForImage, waiting.State);
        Assert.Equal(Image("shop/payments"), waiting.Image);
        Assert.Equal(waiting.CreatedAt + TimeSpan.FromMinutes(45), waiting.ImageWaitUntil);
        Assert.NotNull(waiting.HoldId); // the slot is held for the person meanwhile
        var checkedFirst = waiting.ImageCheckedAt;

        var looked = await AdvanceUntilAsync(waiting.Id, TimeSpan.FromSeconds(20), d => d.ImageCheckedAt > checkedFirst);
        Assert.Equal(DeploymentState.WaitingForImage, looked.State); // not built yet: still waiting

        var pushed = await Registry.PushAsync("shop/payments", "main", DateTimeOffset.UtcNow);
        var done = await AdvanceUntilAsync(waiting.Id, TimeSpan.FromSeconds(35), d => d.IsFinished, untilStarted: true);

        Assert.Equal(DeploymentState.Succeeded, done.State);
        Assert.Equal(pushed.Digest, done.ImageDigest);
        Assert.Equal($"{Registry.Host}/shop/payments@{pushed.Digest}",
            (await _h.Kubernetes.AppsV1.ReadNamespacedDeploymentAsync("payments", "qa-2")).Spec.Template.Spec.Containers[0].Image);
        var told = await _webhooks.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Contains($"The image {Image("shop/payments")} is built", told.Text);
        Assert.Contains("\"ImageBuilt\"", told.Text);
    }

    [Fact]
    public async Task A_push_notification_from_the_registry_starts_the_waiting_deployment_at_once()
    {
        await StartAsync(notify: true);
        var waiting = await DeployWhenBuiltAsync("storefront", "qa-1");

        // The clock stands still: no backoff check is ever due, so only the registry's notification can start it.
        var pushed = await Registry.PushAsync("shop/storefront", "main", DateTimeOffset.UtcNow);
        var done = await _h.WaitFinishedAsync(waiting.Id);

        Assert.Equal(DeploymentState.Succeeded, done.State);
        Assert.Equal(pushed.Digest, done.ImageDigest);
    }

    [Fact]
    public async Task The_events_endpoint_wants_the_shared_secret_and_the_registrys_envelope()
    {
        await StartAsync(notify: false);
        using var http = _h.Host.CreateLoopbackClient();
        var envelope = """{"events":[{"action":"push","target":{"repository":"shop/payments","tag":"main","digest":"sha256:00"}}]}""";

        using var wrong = Request(envelope, "Bearer not-the-secret", RegistryEvents.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);
        using var none = Request(envelope, null, RegistryEvents.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(none)).StatusCode);
        using var text = Request(envelope, "Bearer " + EventsToken, "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await http.SendAsync(text)).StatusCode);
        using var broken = Request("{\"events\":", "Bearer " + EventsToken, RegistryEvents.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(broken)).StatusCode);
        using var other = Request("""{"hello":"world"}""", "Bearer " + EventsToken, RegistryEvents.MediaType);
        var otherAnswer = await http.SendAsync(other);
        Assert.Equal(HttpStatusCode.BadRequest, otherAnswer.StatusCode);
        using (var problem = JsonDocument.Parse(await otherAnswer.Content.ReadAsStringAsync()))
        {
            Assert.Equal("The body is not the registry's event envelope: it has no \"events\" list.", problem.RootElement.GetProperty("detail").GetString());
        }

        using var good = Request(envelope, "Bearer " + EventsToken, RegistryEvents.MediaType);
        var answer = await http.SendAsync(good);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var read = await answer.Content.ReadFromJsonAsync<RegistryEventsAnswer>();
        Assert.Equal(new RegistryEventsAnswer(1, 1, 0), read); // nothing waits for it
    }

    [Fact]
    public async Task Without_an_events_token_the_endpoint_is_not_there()
    {
        await StartAsync(notify: false);
        await _h.StopHostAsync(_h.Host);
        var portal = _h.StartHost(new Dictionary<string, string?>(RegistryHarness.For(Registry.Host, User, Password)));
        using var http = portal.CreateLoopbackClient();
        using var request = Request("""{"events":[]}""", "Bearer " + EventsToken, RegistryEvents.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task The_person_cancels_the_wait_through_the_api_and_a_later_push_starts_nothing()
    {
        await StartAsync(notify: true);
        using var api = await _h.Host.TokenClientAsync(TestUsers.Dana);
        var response = await api.PostAsJsonAsync("/api/v1/deployments", new { app = "payments", branch = "main", slot = "qa-2", purpose = "api wait", whenBuilt = true });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("WaitingForImage", body.RootElement.GetProperty("state").GetString());
        var id = body.RootElement.GetProperty("id").GetInt64();

        using var devon = await _h.Host.TokenClientAsync(TestUsers.Devon);
        Assert.Equal(HttpStatusCode.Forbidden, (await devon.PostAsync($"/api/v1/deployments/{id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/deployments/{id}/cancel", null)).StatusCode);

        await Registry.PushAsync("shop/payments", "main", DateTimeOffset.UtcNow);
        var cancelled = await AdvanceUntilAsync(id, TimeSpan.FromSeconds(20), d => d.IsFinished);
        Assert.Equal(DeploymentState.Cancelled, cancelled.State);
        Assert.Empty(cancelled.Steps); // it never started
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsync($"/api/v1/deployments/{id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task A_later_deployment_of_the_same_app_replaces_the_one_waiting_so_a_late_build_cannot_overwrite_it()
    {
        await StartAsync(notify: true);
        var waiting = await DeployWhenBuiltAsync();
        await Registry.PushAsync("shop/payments", "feature-login", DateTimeOffset.UtcNow);

        var later = await _h.DeployAsync(TestUsers.Dana, "payments", "feature/login", "qa-2");
        Assert.Equal(DeploymentState.Succeeded, (await _h.WaitForAsync(later.Id, d => d.IsFinished)).State);
        await Registry.PushAsync("shop/payments", "main", DateTimeOffset.UtcNow);
        var replaced = await AdvanceUntilAsync(waiting.Id, TimeSpan.FromSeconds(20), d => d.IsFinished);

        Assert.Equal(DeploymentState.Cancelled, replaced.State);
        Assert.Equal($"Replaced by #{later.Id} (payments feature/login), asked for by Dana Developer while this one waited for its image.", replaced.FailureReason);
        Assert.Empty(replaced.Steps); // it never started, even once its image was pushed
    }

    [Fact]
    public async Task Without_whenBuilt_the_api_still_refuses_a_missing_image_and_queues_nothing()
    {
        await StartAsync(notify: false);
        using var api = await _h.Host.TokenClientAsync(TestUsers.Dana);
        var response = await api.PostAsJsonAsync("/api/v1/deployments", new { app = "payments", branch = "main", slot = "qa-2", purpose = "no wait" });
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("is not built yet", await response.Content.ReadAsStringAsync());
        var service = _h.Service<DeploymentService>(out var scope);
        using (scope)
        {
            Assert.Empty(await service.RecentAsync());
        }
    }

    [Fact]
    public async Task It_gives_up_at_the_limit_saying_so_and_tells_the_person()
    {
        await StartAsync(notify: false);
        var waiting = await DeployWhenBuiltAsync();

        var failed = await AdvanceUntilAsync(waiting.Id, TimeSpan.FromMinutes(46), d => d.IsFinished);

        Assert.Equal(DeploymentState.Failed, failed.State);
        Assert.Equal($"Gave up waiting for the image {Image("shop/payments")}: it was not built within 45 min.", failed.FailureReason);
        var told = await _webhooks.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Contains("\"DeployFailed\"", told.Text);
        Assert.Contains("Gave up waiting for the image", told.Text);
    }

    [Fact]
    public async Task A_double_click_creates_one_waiting_deployment()
    {
        await StartAsync(notify: false);
        var slotId = await _h.SlotIdAsync("qa-3");
        var request = new DeployRequest("payments", "main", slotId, "double click", TimeSpan.FromHours(1), WhenBuilt: true);
        async Task<long> ClickAsync()
        {
            using var scope = _h.Host.Services.CreateScope();
            var created = await scope.ServiceProvider.GetRequiredService<DeploymentService>().CreateAsync(TestUsers.Dana, request);
            Assert.True(created.Succeeded, created.Failure?.Message);
            return created.Value!.Id;
        }

        var ids = await Task.WhenAll(ClickAsync(), ClickAsync());
        var again = await ClickAsync();

        Assert.Single(ids.Append(again).Distinct());
        await using var db = _h.Database.Factory.CreateDbContext();
        Assert.Equal(1, db.Deployments.Count(d => d.SlotId == slotId && d.State == DeploymentState.WaitingForImage));
    }

    [Fact]
    public async Task A_restarted_portal_carries_on_waiting_and_deploys_once_built()
    {
        await StartAsync(notify: false);
        var waiting = await DeployWhenBuiltAsync();
        await _h.StopHostAsync(_h.Host);

        var pushed = await Registry.PushAsync("shop/payments", "main", DateTimeOffset.UtcNow); // nobody listens: the notification is lost
        StartPortal();
        var done = await AdvanceUntilAsync(waiting.Id, TimeSpan.FromSeconds(20), d => d.IsFinished, untilStarted: true);

        Assert.Equal(DeploymentState.Succeeded, done.State);
        Assert.Equal(pushed.Digest, done.ImageDigest);
    }

    [Fact]
    public async Task A_hand_over_from_the_queue_waits_for_a_missing_image_instead_of_failing_to_pull()
    {
        await StartAsync(notify: true);
        var waitlist = _h.Service<WaitlistService>(out var scope);
        using (scope)
        {
            // qa-4 is free, so joining serves at once: the hand-over creates the deployment.
            var joined = await waitlist.JoinAsync(TestUsers.Devon, new JoinQueueRequest("payments", "main", "queued test", await _h.SlotIdAsync("qa-4")));
            Assert.True(joined.Succeeded, joined.Failure?.Message);
            Assert.Equal(WaitlistState.Served, joined.Value!.State);
        }

        await using var db = _h.Database.Factory.CreateDbContext();
        var id = db.Deployments.Where(d => d.RequestedById == "devon").Select(d => d.Id).Single();
        var waiting = await _h.WaitForAsync(id, d => d.State != DeploymentState.Queued);
        Assert.Equal(DeploymentState.WaitingForImage, waiting.State);
        Assert.Equal(Image("shop/payments"), waiting.Image);

        // The push notification or the next check starts it (a busy machine may deliver the notification late; the
        // notification itself has its own test above).
        var pushed = await Registry.PushAsync("shop/payments", "main", DateTimeOffset.UtcNow);
        var done = await AdvanceUntilAsync(id, TimeSpan.FromSeconds(20), d => d.IsFinished, untilStarted: true);
        Assert.Equal(DeploymentState.Succeeded, done.State);
        Assert.Equal(pushed.Digest, done.ImageDigest);
    }

    private static HttpRequestMessage Request(string body, string? authorization, string mediaType)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/registry/events")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, mediaType),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return request;
    }
}

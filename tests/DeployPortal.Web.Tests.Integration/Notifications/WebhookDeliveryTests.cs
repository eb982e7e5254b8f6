using System.Diagnostics;
using System.Text;
using System.Text.Json;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DeployPortal.Web.Tests.Notifications;

/// <summary>
/// Events raised by real portal actions reach real HTTP receivers on loopback through Hangfire: Slack and JSON
/// bodies, the signature, quick retries after 500s, a receiver that hangs, and a person's opt-out.
/// </summary>
public sealed class WebhookDeliveryTests : IAsyncLifetime
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"; // the Standard Webhooks spec's example
    private TestDatabase _database = default!;
    private WebhookReceiver _slack = default!;
    private WebhookReceiver _json = default!;
    private PortalHost? _host;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        _slack = await WebhookReceiver.StartAsync();
        _json = await WebhookReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        await _slack.DisposeAsync();
        await _json.DisposeAsync();
        await _database.DisposeAsync();
    }

    private PortalHost StartHost(TimeSpan? timeout = null, int retries = 2, bool embedded = false)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Notifications:PublicUrl"] = "https://portal.example.com/dp/",
            ["Notifications:Timeout"] = (timeout ?? TimeSpan.FromSeconds(10)).ToString(),
            ["Notifications:Retries"] = retries.ToString(),
            ["Notifications:RetryDelay"] = "00:00:00.020",
            ["Notifications:Webhooks:0:Name"] = "team-slack",
            ["Notifications:Webhooks:0:Url"] = _slack.Url.ToString(),
            ["Notifications:Webhooks:0:Kind"] = "Slack",
            ["Notifications:Webhooks:0:Events:0"] = "SlotReleased",
            ["Notifications:Webhooks:0:Events:1"] = "DeploySucceeded",
            ["Notifications:Webhooks:0:Events:2"] = "DeployFailed",
            ["Notifications:Webhooks:1:Name"] = "audit-json",
            ["Notifications:Webhooks:1:Url"] = _json.Url.ToString(),
            ["Notifications:Webhooks:1:Kind"] = "Json",
            ["Notifications:Webhooks:1:Secret"] = Secret,
        };
        _host = embedded ? PortalHost.EmbeddedDefault(_database, settings) : new PortalHost(_database, settings: settings);
        _host.Start();
        return _host;
    }

    private T Service<T>() where T : notnull => _host!.Services.CreateScope().ServiceProvider.GetRequiredService<T>();

    private async Task<(int SlotId, long HoldId)> ClaimAsync(System.Security.Claims.ClaimsPrincipal user, string slot = "qa-1")
    {
        await using var db = _database.Factory.CreateDbContext();
        var slotId = await db.Slots.Where(s => s.Name == slot).Select(s => s.Id).SingleAsync();
        var claim = await Service<HoldActions>().ClaimAsync(user, new ClaimRequest(slotId, "payment <test> & more", null));
        Assert.True(claim.Succeeded, claim.Failure?.Message);
        return (slotId, claim.Value!.Id);
    }

    [Fact]
    public async Task QaRelease_IsAnnouncedToSlack_AndAsSignedJson_WithOutcomeAndLink()
    {
        StartHost();
        var (slotId, holdId) = await ClaimAsync(TestUsers.Dana);

        var release = await Service<HoldActions>().ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(slotId, holdId, QaOutcome.Pass, "all green"));
        Assert.True(release.Succeeded, release.Failure?.Message);

        var slack = await _slack.NextAsync();
        using (var doc = JsonDocument.Parse(slack.Body))
        {
            var text = doc.RootElement.GetProperty("text").GetString()!;
            Assert.Equal(
                "*Slot released* · qa-1\nQuinn QA released qa-1: QA pass for Dana Developer (payment &lt;test&gt; &amp; more): all green\n"
                + "<https://portal.example.com/dp/slots/qa-1|Open in DeployPortal>", text);
            Assert.True(doc.RootElement.GetProperty("mrkdwn").GetBoolean());
        }

        Assert.StartsWith("application/json", slack.Header("Content-Type"));
        Assert.Equal("SlotReleased", slack.Header(WebhookMessages.EventHeader));

        var json = await _json.NextAsync();
        // A receiver checks it with a Standard Webhooks library; a replay with a fresh timestamp fails.
        var headers = new Microsoft.AspNetCore.Http.HeaderDictionary
        {
            [WebhookMessages.IdHeader] = json.Header(WebhookMessages.IdHeader),
            [WebhookMessages.TimestampHeader] = json.Header(WebhookMessages.TimestampHeader),
            [WebhookMessages.SignatureHeader] = json.Header(WebhookMessages.SignatureHeader),
        };
        new StandardWebhooks.StandardWebhook(Secret).Verify(Encoding.UTF8.GetString(json.Body), headers);
        headers[WebhookMessages.TimestampHeader] = (long.Parse(json.Header(WebhookMessages.TimestampHeader)!) + 60).ToString();
        Assert.Throws<StandardWebhooks.Diagnostics.WebhookVerificationException>(() => new StandardWebhooks.StandardWebhook(Secret).Verify(Encoding.UTF8.GetString(json.Body), headers));
        using (var doc = JsonDocument.Parse(json.Body))
        {
            var root = doc.RootElement;
            Assert.Equal(json.Header(WebhookMessages.IdHeader), root.GetProperty("id").GetString());
            Assert.Equal("SlotReleased", root.GetProperty("kind").GetString());
            Assert.Equal("qa-1", root.GetProperty("slot").GetString());
            Assert.Equal("dana", root.GetProperty("user").GetProperty("id").GetString());
            Assert.Equal("Dana Developer", root.GetProperty("user").GetProperty("name").GetString());
            Assert.Contains("QA pass for Dana Developer (payment <test> & more): all green", root.GetProperty("text").GetString());
            Assert.Equal("https://portal.example.com/dp/slots/qa-1", root.GetProperty("link").GetString());
            Assert.EndsWith("Z", root.GetProperty("at").GetString()); // UTC, said so
        }
    }

    [Fact]
    public async Task Receiver_Answering500Twice_GetsTheDeliveryOnTheThirdAttempt_WithTheSameDeliveryId()
    {
        _json.Respond = n => n <= 2 ? 500 : 200;
        StartHost(retries: 2);
        var (slotId, holdId) = await ClaimAsync(TestUsers.Dana);

        Assert.True((await Service<HoldActions>().ReleaseAsync(TestUsers.Dana, new ReleaseRequest(slotId, holdId))).Succeeded);

        var attempts = new[] { await _json.NextAsync(), await _json.NextAsync(), await _json.NextAsync() };
        Assert.Single(attempts.Select(a => a.Header(WebhookMessages.IdHeader)).Distinct());
        Assert.All(attempts, a => Assert.Equal(attempts[0].Text, a.Text));
        // The job ends succeeded: nothing is left to retry later.
        var monitoring = _host!.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        await WaitUntilAsync(() => monitoring.SucceededListCount() >= 1 && monitoring.ProcessingCount() == 0);
        Assert.Equal(0, monitoring.ScheduledCount());
        Assert.Equal(0, monitoring.FailedCount());
        Assert.Equal(3, _json.Count);
    }

    [Fact]
    public async Task Receiver_ThatHangs_DelaysNeitherTheActions_NorOtherReceivers()
    {
        _json.Respond = _ => WebhookReceiver.Hang;
        StartHost(timeout: TimeSpan.FromMinutes(2), retries: 0);
        var (slotId, holdId) = await ClaimAsync(TestUsers.Dana);
        Assert.True((await Service<HoldActions>().ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(slotId, holdId, QaOutcome.Fail, "login broken"))).Succeeded);

        // The JSON receiver now holds that delivery open and will not answer for minutes.
        await _json.NextAsync();
        Assert.Contains("QA fail", (await _slack.NextAsync()).Text);

        // Meanwhile people keep working: the same slot is claimed and released again, at once, and the healthy
        // receiver hears about it while the first delivery still hangs.
        (slotId, holdId) = await ClaimAsync(TestUsers.Devon);
        Assert.True((await Service<HoldActions>().ReleaseAsync(TestUsers.Devon, new ReleaseRequest(slotId, holdId))).Succeeded);
        Assert.Contains("Devon Developer released qa-1", (await _slack.NextAsync()).Text);
        await _json.NextAsync();
        Assert.Equal(2, _json.Hanging);
    }

    [Fact]
    public async Task Receiver_ThatHangs_IsCutOffByTheTimeout_AndRetriedLater()
    {
        _json.Respond = _ => WebhookReceiver.Hang;
        StartHost(timeout: TimeSpan.FromMilliseconds(300), retries: 1);
        var (slotId, holdId) = await ClaimAsync(TestUsers.Dana);
        Assert.True((await Service<HoldActions>().ReleaseAsync(TestUsers.Dana, new ReleaseRequest(slotId, holdId))).Succeeded);

        // The first attempt and one quick retry, each cut off by the timeout (the sender hangs up); then the
        // job fails and waits in Hangfire's schedule for its next, later, try.
        var first = await _json.NextAsync();
        var second = await _json.NextAsync();
        Assert.Equal(first.Header(WebhookMessages.IdHeader), second.Header(WebhookMessages.IdHeader));
        var monitoring = _host!.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        await WaitUntilAsync(() => monitoring.ScheduledCount() == 1);
        var retry = Assert.Single(monitoring.ScheduledJobs(0, 10)).Value;
        Assert.Equal(nameof(WebhookJob.DeliverAsync), retry.Job.Method.Name);
        Assert.True(retry.EnqueueAt > DateTime.UtcNow.AddSeconds(30), "the next try is minutes away, not immediate");
        await WaitUntilAsync(() => _json.Hanging == 0);
        Assert.Equal(2, _json.Count);
    }

    [Fact]
    public async Task OptOut_SkipsEventsAboutThatPerson_OnlyOfThatKind()
    {
        StartHost();
        Assert.True((await Service<NotificationPreferences>().SetAsync(TestUsers.Dana, PortalEventKind.SlotReleased, notify: false)).Succeeded);
        var job = Service<WebhookJob>();
        WebhookDelivery Delivery(PortalEventKind kind, string user) =>
            new(Guid.NewGuid().ToString("N"), "audit-json", DateTime.UtcNow, new PortalEvent(kind, "qa-1", user, user, $"{kind} about {user}", "/"));

        // Run the delivery jobs themselves, so "nothing was sent" is known when the call returns.
        await job.DeliverAsync(Delivery(PortalEventKind.SlotReleased, "dana"), CancellationToken.None);
        Assert.Equal(0, _json.Count);

        await job.DeliverAsync(Delivery(PortalEventKind.HoldExpired, "dana"), CancellationToken.None);
        await job.DeliverAsync(Delivery(PortalEventKind.SlotReleased, "devon"), CancellationToken.None);
        Assert.Equal<string>(["HoldExpired about dana", "SlotReleased about devon"],
            _json.All.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("text").GetString()!).ToArray());

        // Turned back on, Dana's releases are announced again.
        Assert.True((await Service<NotificationPreferences>().SetAsync(TestUsers.Dana, PortalEventKind.SlotReleased, notify: true)).Succeeded);
        await job.DeliverAsync(Delivery(PortalEventKind.SlotReleased, "dana"), CancellationToken.None);
        Assert.Equal(3, _json.Count);
    }

    [Fact]
    public async Task Deployments_AnnounceSuccessAndFailure_ToTheRequester()
    {
        StartHost(embedded: true);
        await using var db = _database.Factory.CreateDbContext();
        var slotId = await db.Slots.Where(s => s.Name == "qa-2").Select(s => s.Id).SingleAsync();

        var ok = await Service<DeploymentService>().CreateAsync(TestUsers.Dana, new DeployRequest("storefront", "feature/login", slotId, "login test"));
        Assert.True(ok.Succeeded, ok.Failure?.Message);
        var succeeded = await _slack.NextAsync(TimeSpan.FromSeconds(60));
        var text = JsonDocument.Parse(succeeded.Body).RootElement.GetProperty("text").GetString()!;
        Assert.StartsWith("*Deploy succeeded* · qa-2\nstorefront feature/login (", text);
        Assert.EndsWith($"<https://portal.example.com/dp/deployments/{ok.Value!.Id}|Open in DeployPortal>", text);

        var bad = await Service<DeploymentService>().CreateAsync(TestUsers.Dana, new DeployRequest("payments", "crash-on-start", slotId));
        Assert.True(bad.Succeeded, bad.Failure?.Message);
        var failed = await _slack.NextAsync(TimeSpan.FromSeconds(60));
        text = JsonDocument.Parse(failed.Body).RootElement.GetProperty("text").GetString()!;
        Assert.StartsWith("*Deploy failed* · qa-2\npayments crash-on-start (", text);
        Assert.Contains("CrashLoopBackOff", text);
        Assert.DoesNotContain('\u001b', text); // the crashed app's colour escapes stay on the deployment page
        Assert.Equal(2, _slack.Count);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        // Hangfire's state changes are not pushed anywhere a test can subscribe to; poll its storage briefly.
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("Hangfire did not reach the expected state in time.");
            }

            await Task.Delay(50);
        }
    }
}

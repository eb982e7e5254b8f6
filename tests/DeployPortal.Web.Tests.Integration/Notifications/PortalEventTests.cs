using System.Text;
using System.Text.Json;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Notifications;

public sealed class SqlitePortalEventTests() : PortalEventTests(DatabaseProvider.Sqlite);

public sealed class PostgresPortalEventTests() : PortalEventTests(DatabaseProvider.Postgres);

/// <summary>
/// Which events the slot rules raise, and for whom, through the real service and database: each wanted event
/// becomes one recorded delivery job per receiver. Also the opt-out store.
/// </summary>
public abstract class PortalEventTests(DatabaseProvider provider) : IAsyncLifetime
{
    private SlotHarness _h = default!;

    public async Task InitializeAsync()
    {
        _h = await SlotHarness.CreateAsync(provider);
        _h.NotificationOptions.CurrentValue = new NotificationOptions
        {
            Webhooks =
            [
                new WebhookOptions { Name = "all", Url = new Uri("http://127.0.0.1:9/all") },
                new WebhookOptions { Name = "expiries", Url = new Uri("http://127.0.0.1:9/exp"), Events = [PortalEventKind.HoldExpired] },
            ],
        };
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private List<WebhookDelivery> Deliveries() =>
        [.. _h.Jobs.Jobs.Where(j => j.Type == typeof(WebhookJob)).Select(j => (WebhookDelivery)j.Args[0])];

    [Fact]
    public async Task OwnRelease_RaisesSlotReleased_AboutTheHolder_ForReceiversThatWantIt()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = (await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null))).Value!;
        Assert.Empty(Deliveries()); // claims are not announced

        Assert.True((await _h.Actions.ReleaseAsync(TestUsers.Dana, new ReleaseRequest(slot.Id, hold.Id))).Succeeded);

        var delivery = Assert.Single(Deliveries());
        Assert.Equal("all", delivery.Receiver);
        Assert.Equal(new PortalEvent(PortalEventKind.SlotReleased, "qa-1", "dana", "Dana Developer", "Dana Developer released qa-1 (payment test).", "/slots/qa-1"),
            delivery.Event);
        Assert.Equal(_h.Clock.GetUtcNow().UtcDateTime, delivery.At);
    }

    [Fact]
    public async Task QaRelease_And_ForcedRelease_SayWhoReleasedAndTheOutcome()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = (await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null))).Value!;
        await _h.Actions.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(slot.Id, hold.Id, QaOutcome.Fail, "checkout 500s"));
        hold = (await _h.Actions.ClaimAsync(TestUsers.Devon, new ClaimRequest(slot.Id, "search", null))).Value!;
        await _h.Actions.ReleaseAsync(TestUsers.Ada, new ReleaseRequest(slot.Id, hold.Id));

        Assert.Equal(
            [
                ("dana", "Quinn QA released qa-1: QA fail for Dana Developer (payment test): checkout 500s"),
                ("devon", "Ada Admin took qa-1 back from Devon Developer (search)."),
            ],
            Deliveries().Select(d => (d.Event.UserId!, d.Event.Text)).ToArray());
    }

    [Fact]
    public async Task Expiry_RaisesHoldExpired_Once_EvenWhenTheJobRunsTwice()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", TimeSpan.FromHours(1)));
        _h.Clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(1, await _h.Sweep.ExpireDueHoldsAsync());
        Assert.Equal(0, await _h.Sweep.ExpireDueHoldsAsync());

        var expired = Deliveries();
        Assert.Equal(["all", "expiries"], expired.Select(d => d.Receiver).Order().ToArray());
        Assert.All(expired, d => Assert.Equal(PortalEventKind.HoldExpired, d.Event.Kind));
        Assert.Equal("Dana Developer's hold on qa-1 (payment test) ran out at 2026-11-26 10:00 UTC; the slot is free again.", expired[0].Event.Text);
        Assert.NotEqual(expired[0].Id, expired[1].Id); // one delivery per receiver
    }

    [Fact]
    public async Task Claim_OverAHoldPastItsEnd_RaisesHoldExpired_ForTheOldHolder()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", TimeSpan.FromHours(1)));
        _h.Clock.Advance(TimeSpan.FromHours(2)); // the expiry job has not run

        Assert.True((await _h.Actions.ClaimAsync(TestUsers.Devon, new ClaimRequest(slot.Id, "search", null))).Succeeded);

        Assert.All(Deliveries(), d => Assert.Equal((PortalEventKind.HoldExpired, "dana"), (d.Event.Kind, d.Event.UserId)));
        Assert.Equal(2, Deliveries().Count);
    }

    [Fact]
    public async Task OptOut_IsStoredOncePerKind_AndCanBeUndone()
    {
        var prefs = new NotificationPreferences(_h.Database.Factory, _h.Clock);

        Assert.True((await prefs.SetAsync(TestUsers.Dana, PortalEventKind.DeployFailed, notify: false)).Succeeded);
        Assert.True((await prefs.SetAsync(TestUsers.Dana, PortalEventKind.DeployFailed, notify: false)).Succeeded); // twice: one row
        Assert.True((await prefs.SetAsync(TestUsers.Dana, PortalEventKind.HoldExpired, notify: false)).Succeeded);
        Assert.Equal([PortalEventKind.DeployFailed, PortalEventKind.HoldExpired], (await prefs.GetOptOutsAsync(TestUsers.Dana)).Order().ToArray());
        Assert.Empty(await prefs.GetOptOutsAsync(TestUsers.Devon));
        Assert.True(await prefs.IsOptedOutAsync("dana", PortalEventKind.DeployFailed));
        Assert.False(await prefs.IsOptedOutAsync("devon", PortalEventKind.DeployFailed));

        Assert.True((await prefs.SetAsync(TestUsers.Dana, PortalEventKind.DeployFailed, notify: true)).Succeeded);
        Assert.Equal([PortalEventKind.HoldExpired], (await prefs.GetOptOutsAsync(TestUsers.Dana)).ToArray());
        await using var db = _h.Database.Factory.CreateDbContext();
        Assert.Equal(1, await db.NotificationOptOuts.CountAsync());

        var anonymous = await prefs.SetAsync(TestUsers.Anonymous, PortalEventKind.DeployFailed, notify: false);
        Assert.Equal(FailureKind.Forbidden, anonymous.Failure?.Kind);
    }
}

/// <summary>The bodies receivers get, byte for byte where it matters.</summary>
public sealed class WebhookMessageTests
{
    private static readonly DateTimeOffset SentAt = new(2025, 11, 26, 9, 30, 0, TimeSpan.Zero);

    private static readonly WebhookDelivery Delivery = new("d1", "r", new DateTime(2026, 11, 26, 9, 30, 0, DateTimeKind.Utc),
        new PortalEvent(PortalEventKind.DeployFailed, "qa-2", "dana", "Dana Developer", "storefront <@channel> & co failed", "/deployments/7"));

    [Fact]
    public void Slack_EscapesPeoplesText_AndLinksIntoThePortal()
    {
        var body = JsonDocument.Parse(WebhookMessages.SlackBody(Delivery.Event, "https://portal.example.com/deployments/7"));

        Assert.Equal("*Deploy failed* · qa-2\nstorefront &lt;@channel&gt; &amp; co failed\n<https://portal.example.com/deployments/7|Open in DeployPortal>",
            body.RootElement.GetProperty("text").GetString());
        Assert.Equal(["text", "mrkdwn"], body.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
    }

    [Fact]
    public async Task Build_WithoutPublicUrl_SlackHasNoLink_JsonKeepsThePath_AndUnsignedWithoutSecret()
    {
        using var slack = WebhookMessages.Build(new WebhookOptions { Name = "s", Url = new Uri("http://127.0.0.1:9/s"), Kind = WebhookKind.Slack }, Delivery, null, SentAt);
        Assert.DoesNotContain("Open in DeployPortal", await slack.Content!.ReadAsStringAsync());

        using var json = WebhookMessages.Build(new WebhookOptions { Name = "j", Url = new Uri("http://127.0.0.1:9/j") }, Delivery, null, SentAt);
        Assert.False(json.Headers.Contains(WebhookMessages.SignatureHeader));
        var root = JsonDocument.Parse(await json.Content!.ReadAsStringAsync()).RootElement;
        Assert.Equal("/deployments/7", root.GetProperty("link").GetString());
        Assert.Equal("""{"id":"d1","kind":"DeployFailed","at":"2026-11-26T09:30:00Z","slot":"qa-2","user":{"id":"dana","name":"Dana Developer"},"text":"storefront \u003C@channel\u003E \u0026 co failed","link":"/deployments/7"}""",
            Encoding.UTF8.GetString(await json.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task Build_WithPublicUrlUnderAPath_KeepsThePath()
    {
        using var json = WebhookMessages.Build(new WebhookOptions { Name = "j", Url = new Uri("http://127.0.0.1:9/j") }, Delivery,
            new Uri("https://example.com/tools/portal"), SentAt);
        var root = JsonDocument.Parse(await json.Content!.ReadAsStringAsync()).RootElement;
        Assert.Equal("https://example.com/tools/portal/deployments/7", root.GetProperty("link").GetString());
    }

    [Fact]
    public async Task Build_WithSecret_SignsIdTimestampAndBody_AsTheStandardWebhooksSpecSays()
    {
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        using var json = WebhookMessages.Build(new WebhookOptions { Name = "j", Url = new Uri("http://127.0.0.1:9/j"), Secret = "whsec_" + Convert.ToBase64String(key) },
            Delivery, null, SentAt);
        var body = await json.Content!.ReadAsByteArrayAsync();

        Assert.Equal("d1", json.Headers.GetValues(WebhookMessages.IdHeader).Single());
        Assert.Equal("1764149400", json.Headers.GetValues(WebhookMessages.TimestampHeader).Single());
        // The spec's recipe, written out here rather than taken from the library the portal signs with.
        var signed = Encoding.UTF8.GetBytes("d1.1764149400.").Concat(body).ToArray();
        Assert.Equal("v1," + Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(key, signed)),
            json.Headers.GetValues(WebhookMessages.SignatureHeader).Single());
    }

    [Theory]
    [InlineData("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true)] // the spec's example secret
    [InlineData("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true)]
    [InlineData("s3cret", false)] // not base64 of enough bytes: a guessable password
    [InlineData("whsec_not base64!", false)]
    [InlineData("whsec_AAAA", false)] // 3 bytes
    public void Secrets_AreBase64Of24To64Bytes(string secret, bool valid) => Assert.Equal(valid, WebhookMessages.IsValidSecret(secret));
}

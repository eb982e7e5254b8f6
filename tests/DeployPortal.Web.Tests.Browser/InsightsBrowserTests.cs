using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>The insights page in a real browser: charts from a week of history, the period in the address, the empty state.</summary>
[Collection(BrowserCollection.Name)]
public sealed class InsightsBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    private readonly List<string> _console = [];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await SeedWeekAsync();
    }

    [Fact]
    public async Task Viewer_SeesChartsForTheWeek_SharesThePeriodByAddress_AndAnEmptyDay()
    {
        var page = await Browser.SignInAsync(Portal, "viewer");
        page.Console += (_, message) => _console.Add(message.Text);

        await page.ClickAsync("[data-testid=nav-insights]");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/insights$"));
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=figure-deployments]")).ToContainTextAsync("75%"); // 3 of 4
        await Expect(page.Locator("[data-testid=figure-holds]")).ToContainTextAsync("2 expired");
        await Expect(page.Locator("[data-testid=chart-utilisation] svg path").First).ToBeAttachedAsync();
        await Expect(page.Locator("[data-testid=chart-holds] svg path").First).ToBeAttachedAsync();
        await Expect(page.Locator("[data-testid=chart-durations] svg path").First).ToBeAttachedAsync();
        await Expect(page.Locator("[data-testid=waits-pending]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=waste-empty]")).ToContainTextAsync("nobody waited in the queue"); // holds, but no waits, give-backs or sleep
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "insights-week.png"), FullPage = true });

        // The last 24 hours had nothing: the period is in the address, and the page says so instead of drawing flat lines.
        await page.ClickAsync("[data-testid=period-24h]");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/insights\\?period=24h$"));
        await Expect(page.Locator("[data-testid=insights-empty]")).ToBeVisibleAsync();

        // A shared link opens the same view.
        await page.GotoAsync("/insights?period=30d");
        await Expect(page.Locator("[data-testid=period-30d]")).ToHaveAttributeAsync("aria-current", "page");
        await Expect(page.Locator("[data-testid=figure-deployments]")).ToContainTextAsync("75%");
        await page.SetViewportSizeAsync(390, 844);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "insights-month-phone.png"), FullPage = true });
        Assert.DoesNotContain(_console, m => m.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task WaitingAndWaste_ShowsTheWeeksWaits_ReclaimedHours_GiveBacks_AndPodHoursSaved()
    {
        await SeedWasteAsync();
        var page = await Browser.SignInAsync(Portal, "viewer", 1280, 900);
        await page.GotoAsync("/insights");
        await BrowserFixture.WaitInteractiveAsync(page);

        await Expect(page.Locator("[data-testid=waste-wait]")).ToContainTextAsync("20 min · 40 min");
        await Expect(page.Locator("[data-testid=waste-wait]")).ToContainTextAsync("3 people served from the queue (before: 1 h · 1 h)");
        await Expect(page.Locator("[data-testid=waste-reclaimed]")).ToContainTextAsync("3.0 h");
        await Expect(page.Locator("[data-testid=waste-given-back]")).ToContainTextAsync("1");
        await Expect(page.Locator("[data-testid=waste-pod-hours]")).ToContainTextAsync("2.0 h");
        await page.Locator("[data-testid=waste-panel]").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "insights-waste.png") });

        await page.SetViewportSizeAsync(390, 844);
        await Expect(page.Locator("[data-testid=waste-pod-hours]")).ToBeVisibleAsync();
        await page.Locator("[data-testid=waste-panel]").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "insights-waste-phone.png") });
    }

    /// <summary>
    /// This week: three people served from the queue after 10, 20 and 40 min, one idle hold given back with 3 h left,
    /// and a slot (payments, one replica) asleep for 2 h; the week before: one wait of an hour.
    /// </summary>
    private async Task SeedWasteAsync()
    {
        var now = DateTime.UtcNow;
        var data = new InsightsData(Database.Factory);
        await using var db = Database.Factory.CreateDbContext();
        var slots = await db.Slots.OrderBy(s => s.Name).ToListAsync();
        foreach (var (daysAgo, minutes) in new[] { (1.0, 10), (2.0, 20), (3.0, 40), (9.0, 60) })
        {
            db.Waitlist.Add(new WaitlistEntry
            {
                UserId = "devon",
                UserName = "Devon",
                App = "payments",
                Branch = "main",
                Purpose = "waiting",
                JoinedAt = now.AddDays(-daysAgo),
                EndedAt = now.AddDays(-daysAgo).AddMinutes(minutes),
                State = WaitlistState.Served,
            });
        }

        var forgotten = await data.HoldAsync(slots[0], "dana", now.AddDays(-1).AddHours(-2), now.AddDays(-1), ReleaseReason.Expired);
        db.Attach(forgotten);
        forgotten.GivenBackUntil = forgotten.Until.AddHours(-1); // it had 3 h left: the seeded hold's end is 4 h after its release
        forgotten.Until = now.AddDays(-1);
        // On qa-4, which the week's seed leaves alone: a hold it put on qa-2 two days ago overlapped this one between 07:00
        // and 14:00 UTC, two holds of one slot at once, which the portal never writes.
        var asleep = slots[3];
        var slept = await data.HoldAsync(asleep, "erin", now.AddDays(-2), now.AddDays(-2).AddHours(5));
        await data.DeploymentAsync(asleep, slept, "main", DeploymentState.Succeeded, now.AddDays(-2), TimeSpan.Zero, TimeSpan.FromMinutes(1), app: "payments");
        db.AuditEvents.Add(new AuditEvent { At = now.AddDays(-2).AddHours(1), ActorId = "system", ActorName = "DeployPortal", Action = "sleep", SlotId = asleep.Id, SlotName = asleep.Name });
        db.AuditEvents.Add(new AuditEvent { At = now.AddDays(-2).AddHours(3), ActorId = "system", ActorName = "DeployPortal", Action = "wake", SlotId = asleep.Id, SlotName = asleep.Name });
        await db.SaveChangesAsync();
    }

    /// <summary>Two to six days ago: holds on three slots, two forgotten, and four deployments, one failed.</summary>
    private async Task SeedWeekAsync()
    {
        var now = DateTime.UtcNow;
        var data = new InsightsData(Database.Factory);
        await using var db = Database.Factory.CreateDbContext();
        var slots = await db.Slots.OrderBy(s => s.Name).ToListAsync();
        var day = now.Date.AddDays(-6).AddHours(8);
        for (var i = 0; i < 5; i++)
        {
            var slot = slots[i % 3];
            var since = day.AddDays(i).AddHours(i % 2);
            var reason = i is 1 or 3 ? ReleaseReason.Expired : i == 4 ? ReleaseReason.QaDone : ReleaseReason.Released;
            var hold = await data.HoldAsync(slot, i % 2 == 0 ? "dana" : "devon", since, since.AddHours(3 + i), reason, reason == ReleaseReason.QaDone ? QaOutcome.Pass : null);
            if (i < 4)
            {
                await data.DeploymentAsync(slot, hold, $"feature/{i}", i == 2 ? DeploymentState.Failed : DeploymentState.Succeeded, since.AddMinutes(5),
                    TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(40 + 70 * i));
            }
        }
    }
}

using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>An idle slot falls asleep on its own, the board says since when, and Wake brings its apps back.</summary>
[Collection(BrowserCollection.Name)]
public sealed class IdleSleepBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    /// <summary>Dana as the development sign-in knows her (its subjects are prefixed).</summary>
    private static readonly System.Security.Claims.ClaimsPrincipal DemoDana = TestUsers.Make("dev:dana", "Dana Developer", Web.Auth.PortalRoles.Developer);

    protected override PortalHost CreateHost(TestDatabase database) => PortalHost.EmbeddedDefault(database);

    [Fact]
    public async Task Board_IdleSlotFallsAsleep_ShowsSinceWhen_AndWakeBringsItsPodsBack()
    {
        var deployment = await DeployAsync("qa-2", "checkout test");
        var replicas = (await ReadStorefrontAsync()).Spec.Replicas;

        var dana = await Browser.SignInAsync(Portal, "dana");
        var card = dana.Locator("[data-testid=slot-qa-2]");
        await Expect(card).ToHaveAttributeAsync("data-state", "Held");
        await Expect(card.Locator("[data-testid=slot-sleeping]")).ToHaveCountAsync(0);

        // Nobody used the slot for 40 minutes: the sleep job puts it to sleep, and the open board shows it by itself.
        await SleepAsync(deployment.HoldId!.Value);

        var chip = card.Locator("[data-testid=slot-sleeping]");
        await Expect(chip).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"asleep since \d\d:\d\d$"));
        await PollClusterAsync(d => d.Spec.Replicas == 0 && (d.Status.Replicas ?? 0) == 0);
        await dana.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "board-asleep.png"), FullPage = true });

        // Wake, twice in a row as an impatient person does: woken once, the apps come back with their replicas.
        var wake = card.Locator("[data-testid=wake]");
        await wake.DblClickAsync();
        await Expect(chip).ToHaveCountAsync(0);
        await Expect(wake).ToHaveCountAsync(0);
        await PollClusterAsync(d => d.Spec.Replicas == replicas && d.Status.AvailableReplicas == replicas);
        await dana.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "board-woken.png"), FullPage = true });
        await using var check = Database.Factory.CreateDbContext();
        Assert.Equal(1, await check.AuditEvents.CountAsync(a => a.Action == Web.Audit.AuditActions.Wake));
        Assert.Null((await check.Holds.SingleAsync(h => h.Id == deployment.HoldId)).ReleasedAt);
    }

    [Fact]
    public async Task AppAddress_WhileAsleep_ShowsTheWakePage_WithProgress_AndReloadsUntilAwake()
    {
        var deployment = await DeployAsync("qa-3", "wake page");
        await SleepAsync(deployment.HoldId!.Value);

        // The emulator has no Ingress controller: the browser's requests for the app's address are passed to the portal
        // with the app's Host header, as the Ingress (pointed at the portal's Service while asleep) passes them.
        var page = await (await Browser.Browser.NewContextAsync()).NewPageAsync();
        using var http = new HttpClient { BaseAddress = Portal };
        await page.RouteAsync("http://storefront.qa-3.test.example.com/**", async route =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(route.Request.Url).PathAndQuery);
            request.Headers.Host = "storefront.qa-3.test.example.com";
            using var response = await http.SendAsync(request);
            await route.FulfillAsync(new() { Status = (int)response.StatusCode, ContentType = "text/html; charset=utf-8", Body = await response.Content.ReadAsStringAsync() });
        });

        await page.GotoAsync("http://storefront.qa-3.test.example.com/");

        await Expect(page.Locator("[data-testid=wake-title]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("storefront in qa-3 is (asleep — waking it|awake)"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "wake-page.png"), FullPage = true });
        // The page reloads itself; the pods come up and it says so (on a real cluster the next reload is the app).
        await Expect(page.Locator("[data-testid=wake-title]")).ToHaveTextAsync("storefront in qa-3 is awake", new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "wake-page-awake.png"), FullPage = true });
        await using var db = Database.Factory.CreateDbContext();
        Assert.Null((await db.Holds.SingleAsync(h => h.Id == deployment.HoldId)).SleepingSince);
        Assert.Equal(1, await db.AuditEvents.CountAsync(a => a.Action == Web.Audit.AuditActions.Wake));
    }

    private async Task<Deployment> DeployAsync(string slotName, string purpose)
    {
        long id;
        using (var scope = Host.Services.CreateScope())
        {
            var slot = (await scope.ServiceProvider.GetRequiredService<BoardQueries>().GetBoardAsync()).First(s => s.Name == slotName);
            var deploy = await scope.ServiceProvider.GetRequiredService<DeploymentService>().CreateAsync(DemoDana, new DeployRequest("storefront", "main", slot.Id, purpose));
            Assert.True(deploy.Succeeded, deploy.Failure?.Message);
            id = deploy.Value!.Id;
        }

        var deployment = await PollAsync(async db => await db.Deployments.SingleAsync(d => d.Id == id), d => d.State is not (DeploymentState.Queued or DeploymentState.Running));
        Assert.Equal(DeploymentState.Succeeded, deployment.State);
        return deployment;
    }

    /// <summary>Makes the hold look unused for 40 minutes and runs the sleep job: the hold must be asleep after it.</summary>
    private async Task SleepAsync(long holdId)
    {
        await using (var db = Database.Factory.CreateDbContext())
        {
            var idleSince = DateTime.UtcNow.AddMinutes(-40);
            await db.Holds.Where(h => h.Id == holdId).ExecuteUpdateAsync(s => s.SetProperty(h => h.LastActivityAt, idleSince));
        }

        using (var scope = Host.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<IdleSleep>().RunAsync(); // or the portal's own minutely run gets there first
        }

        await using var check = Database.Factory.CreateDbContext();
        Assert.NotNull((await check.Holds.SingleAsync(h => h.Id == holdId)).SleepingSince);
    }

    private async Task<k8s.Models.V1Deployment> ReadStorefrontAsync()
    {
        using var scope = Host.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ClusterGateway>().ReadDeploymentAsync("qa-2", "storefront", default);
    }

    private async Task PollClusterAsync(Func<k8s.Models.V1Deployment, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        k8s.Models.V1Deployment d;
        while (!condition(d = await ReadStorefrontAsync()))
        {
            Assert.True(DateTime.UtcNow < deadline, $"storefront in qa-2 never got there: {d.Spec.Replicas} wanted, {d.Status.AvailableReplicas} available");
            await Task.Delay(100);
        }
    }

    private async Task<T> PollAsync<T>(Func<PortalDb, Task<T>> read, Func<T, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var db = Database.Factory.CreateDbContext();
            var value = await read(db);
            if (condition(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(100);
        }
    }
}

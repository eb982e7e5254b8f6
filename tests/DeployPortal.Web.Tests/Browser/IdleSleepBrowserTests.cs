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
public sealed class IdleSleepBrowserTests(BrowserFixture browser) : IAsyncLifetime
{
    private TestDatabase _database = default!;
    private PortalHost _host = default!;
    private Uri _portal = default!;

    /// <summary>Dana as the development sign-in knows her (its subjects are prefixed).</summary>
    private static readonly System.Security.Claims.ClaimsPrincipal DemoDana = TestUsers.Make("dev:dana", "Dana Developer", Web.Auth.PortalRoles.Developer);

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        _host = PortalHost.EmbeddedDefault(_database);
        _portal = _host.Start();
    }

    public async Task DisposeAsync()
    {
        await browser.CloseContextsAsync();
        await _host.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Board_IdleSlotFallsAsleep_ShowsSinceWhen_AndWakeBringsItsPodsBack()
    {
        long deploymentId;
        using (var scope = _host.Services.CreateScope())
        {
            var slot = (await scope.ServiceProvider.GetRequiredService<BoardQueries>().GetBoardAsync()).First(s => s.Name == "qa-2");
            var deploy = await scope.ServiceProvider.GetRequiredService<DeploymentService>().CreateAsync(DemoDana, new DeployRequest("storefront", "main", slot.Id, "checkout test"));
            Assert.True(deploy.Succeeded, deploy.Failure?.Message);
            deploymentId = deploy.Value!.Id;
        }

        var deployment = await PollAsync(async db => await db.Deployments.SingleAsync(d => d.Id == deploymentId), d => d.State is not (DeploymentState.Queued or DeploymentState.Running));
        Assert.Equal(DeploymentState.Succeeded, deployment.State);
        var replicas = (await ReadStorefrontAsync()).Spec.Replicas;

        var dana = await browser.SignInAsync(_portal, "dana");
        var card = dana.Locator("[data-testid=slot-qa-2]");
        await Expect(card).ToHaveAttributeAsync("data-state", "Held");
        await Expect(card.Locator("[data-testid=slot-sleeping]")).ToHaveCountAsync(0);

        // Nobody used the slot for 40 minutes: the sleep job puts it to sleep, and the open board shows it by itself.
        await using (var db = _database.Factory.CreateDbContext())
        {
            var idleSince = DateTime.UtcNow.AddMinutes(-40);
            await db.Holds.Where(h => h.Id == deployment.HoldId).ExecuteUpdateAsync(s => s.SetProperty(h => h.LastActivityAt, idleSince));
        }

        using (var scope = _host.Services.CreateScope())
        {
            Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<IdleSleep>().RunAsync());
        }

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
        await using var check = _database.Factory.CreateDbContext();
        Assert.Equal(1, await check.AuditEvents.CountAsync(a => a.Action == Web.Audit.AuditActions.Wake));
        Assert.Null((await check.Holds.SingleAsync(h => h.Id == deployment.HoldId)).ReleasedAt);
    }

    private async Task<k8s.Models.V1Deployment> ReadStorefrontAsync()
    {
        using var scope = _host.Services.CreateScope();
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
            await using var db = _database.Factory.CreateDbContext();
            var value = await read(db);
            if (condition(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(100);
        }
    }
}

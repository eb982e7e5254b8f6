using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>
/// A portal process killed with SIGKILL mid-rollout, on PostgreSQL with Hangfire.PostgreSql: another portal resumes the
/// deployment soon after the dead worker's lease lapses, and its page says so meanwhile.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class CrashRecoveryTests(BrowserFixture browser, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(15);
    private DeployHarness _h = default!;

    public async Task InitializeAsync() => _h = await DeployHarness.CreateAsync(DatabaseProvider.Postgres, startHost: false);

    public async Task DisposeAsync()
    {
        await browser.CloseContextsAsync();
        await _h.DisposeAsync();
    }

    [Fact]
    public async Task PortalKilledMidRollout_AnotherResumesSoonAfterTheLeaseLapses_AndThePageSaysTheWorkerStopped()
    {
        var settings = _h.Settings();
        settings["Database:Provider"] = "Postgres";
        settings["Database:ConnectionString"] = _h.Database.ConnectionString;
        settings["Deployments:Lease"] = Lease.ToString();
        settings["Logging:LogLevel:Default"] = "Warning";
        settings["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information";
        _h.Emulator.Options.ReadyDelay = TimeSpan.FromMinutes(5); // the rollout is under way when the process dies

        // A CI job asks the first portal process for a deployment.
        long id;
        await using (var first = await PortalProcess.StartAsync(settings))
        {
            var secret = await TestTokens.AddDanaAsync(_h.Database.Factory);
            using var client = new HttpClient { BaseAddress = await first.Address };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            var created = await client.PostAsJsonAsync("/api/v1/deployments", new { app = "payments", branch = "feature/payment", slot = "qa-3", purpose = "crash test" });
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            await WaitForDatabaseAsync(id, d => d.Steps.Any(s => s.Name == StepName.Rollout && s.State == StepState.Running), TimeSpan.FromSeconds(60));

            await first.KillAsync(); // SIGKILL: no shutdown, no lease handed back, its Hangfire job left "processing"
        }

        var killedAt = DateTime.UtcNow;
        var lapsesAt = (await WaitForDatabaseAsync(id, _ => true, TimeSpan.FromSeconds(5))).LeaseUntil!.Value;
        _h.Emulator.Options.ReadyDelay = TimeSpan.FromMilliseconds(150);

        // A second portal (another replica, or the restarted one) with the default check interval.
        var second = _h.StartHost(new Dictionary<string, string?> { ["Deployments:Lease"] = Lease.ToString() });
        var page = await browser.SignInAsync(second.Start(), "quinn");
        await page.GotoAsync($"/deployments/{id}");
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=worker-stopped]")).ToContainTextAsync("The worker stopped; resuming", new() { Timeout = 60_000 });
        await Expect(page.Locator("[data-testid=step-rollout]")).ToContainTextAsync("the worker stopped; resuming");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deployment-worker-stopped.png"), FullPage = true });

        // Resumed and finished, once, within the spec's 30 s of the lease lapsing.
        var done = await WaitForDatabaseAsync(id, d => d.State is DeploymentState.Succeeded or DeploymentState.Failed, lapsesAt - DateTime.UtcNow + TimeSpan.FromSeconds(30));
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Succeeded");
        await Expect(page.Locator("[data-testid=worker-stopped]")).ToHaveCountAsync(0);
        Assert.Equal((DeploymentState.Succeeded, 2, 4), (done.State, done.Attempts, done.Steps.Count));
        var resumedAt = done.Steps.Single(s => s.Name == StepName.Resolve).StartedAt;
        output.WriteLine($"killed at {killedAt:HH:mm:ss.f}, lease lapsed at {lapsesAt:HH:mm:ss.f}, resumed at {resumedAt:HH:mm:ss.f}: "
            + $"{(resumedAt - lapsesAt).TotalSeconds:0.0} s after the lease lapsed, {(resumedAt - killedAt).TotalSeconds:0.0} s after the kill");
    }

    private async Task<Deployment> WaitForDatabaseAsync(long id, Func<Deployment, bool> condition, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            await using (var db = _h.Database.Factory.CreateDbContext())
            {
                if (await db.Deployments.AsNoTracking().Include(d => d.Steps).FirstOrDefaultAsync(d => d.Id == id) is { } d && condition(d))
                {
                    return d;
                }
            }

            await Task.Delay(100, deadline.Token); // bounded poll of the database the portals share, not a fixed wait
        }
    }
}

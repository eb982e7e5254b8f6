using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>
/// <c>docker stop</c> / a rolling update: SIGTERM to the portal process (the embedded default) while a deployment
/// rolls out and someone watches its page, pods and logs.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class ShutdownTests(BrowserFixture browser, ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>The container's grace period: Kubernetes and Docker kill the process after it.</summary>
    private static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(30);

    private TestDatabase _database = default!;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);

    public async Task DisposeAsync()
    {
        await browser.CloseContextsAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Sigterm_DuringARolloutWithItsPageOpen_ExitsCleanly_WithNothingUnhandledAndNoStackTraces()
    {
        await using var portal = await StartEmbeddedAsync();
        var address = await portal.Address;
        using var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TestTokens.AddDanaAsync(_database.Factory));
        var created = await client.PostAsJsonAsync("/api/v1/deployments", new { app = "storefront", branch = "main", slot = "qa-1", purpose = "shutdown test" });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        var page = await browser.SignInAsync(address, "quinn");
        await page.GotoAsync($"/deployments/{id}");
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=step-rollout]")).ToHaveAttributeAsync("data-state", "Running", new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=log-line]").First).ToBeVisibleAsync(new() { Timeout = 30_000 }); // pods watched, logs followed

        var stopping = Stopwatch.StartNew();
        portal.Terminate();
        using var grace = new CancellationTokenSource(GracePeriod);
        try
        {
            await portal.WaitForExitAsync(grace.Token);
        }
        finally
        {
            output.WriteLine(portal.Output);
        }

        stopping.Stop();
        output.WriteLine($"SIGTERM to exit: {stopping.Elapsed.TotalSeconds:0.0} s, exit code {portal.ExitCode}");

        var log = portal.Output;
        Assert.DoesNotContain("Unhandled exception", log);
        Assert.DoesNotMatch(StackTraceLine(), log);
        Assert.DoesNotMatch(FailLine(), log);
        Assert.Equal(0, portal.ExitCode);
    }

    [Fact]
    public async Task ConcurrentClaimsOfOneFreeSlot_TheRefusalsAreHandled_AndLoggedWithoutFailOrStackTraces()
    {
        await using var portal = await StartEmbeddedAsync();
        using var client = new HttpClient { BaseAddress = await portal.Address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TestTokens.AddDanaAsync(_database.Factory));
        var slot = (await client.GetFromJsonAsync<JsonElement>("/api/v1/slots")).EnumerateArray().First(s => s.GetProperty("name").GetString() == "qa-2");

        // Ten CI jobs claim the same free slot at once: the unique index lets one insert, the rest are told.
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            client.PostAsJsonAsync($"/api/v1/slots/{slot.GetProperty("id").GetInt32()}/claim", new { purpose = $"ci run {i}" })));
        portal.Terminate();
        using var grace = new CancellationTokenSource(GracePeriod);
        await portal.WaitForExitAsync(grace.Token);

        Assert.All(answers, a => Assert.True(a.IsSuccessStatusCode || a.StatusCode == System.Net.HttpStatusCode.Conflict, a.StatusCode.ToString()));
        Assert.DoesNotMatch(FailLine(), portal.Output);
        Assert.DoesNotMatch(StackTraceLine(), portal.Output);
    }

    private Task<PortalProcess> StartEmbeddedAsync() => PortalProcess.StartAsync(new Dictionary<string, string?>
    {
        ["Database:Provider"] = "Sqlite",
        ["Database:ConnectionString"] = _database.ConnectionString,
        ["Apps:Demo"] = "true",
        ["Cluster:Mode"] = "Emulator",
        ["Cluster:Emulator:PodPendingDelay"] = "00:00:00.100",
        ["Cluster:Emulator:ContainerCreatingDelay"] = "00:00:00.100",
        ["Cluster:Emulator:ReadyDelay"] = "00:10:00", // still rolling out when the portal is stopped
        ["Cluster:Emulator:LogLinesPerSecond"] = "20",
    });

    [GeneratedRegex(@"(?m)^\s+at \S+\(")]
    private static partial Regex StackTraceLine();

    [GeneratedRegex(@"(?m)^(fail|crit): ")]
    private static partial Regex FailLine();
}

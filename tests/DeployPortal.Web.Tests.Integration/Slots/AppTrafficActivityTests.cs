using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace DeployPortal.Web.Tests.Slots;

/// <summary>
/// App traffic as activity, end to end: the Kubernetes API emulator counts simulated requests to an app as ingress-nginx
/// would, a real Prometheus (Debian's package, on loopback) scrapes them every second, and the portal host (real
/// KubernetesClient, Hangfire, a fake clock for the idle half hour) polls Prometheus with its preset query.
/// </summary>
public sealed class AppTrafficActivityTests : IAsyncLifetime
{
    private const string QaOneRequests = "sum(increase(nginx_ingress_controller_requests{exported_namespace=\"qa-1\"}[2m]))";
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly ListLogger _logs = new();
    private DeployHarness _h = default!;
    private PrometheusServer _prometheus = default!;

    public async Task InitializeAsync()
    {
        _h = await DeployHarness.CreateAsync(startHost: false);
        _prometheus = await PrometheusServer.StartAsync(_h.Emulator.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        await _prometheus.DisposeAsync();
    }

    private void StartHost(Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?> { ["Activity:Prometheus:Url"] = _prometheus.Url.ToString() };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        _h.StartHost(settings, s =>
        {
            s.AddSingleton<TimeProvider>(_clock);
            s.AddSingleton<ILoggerProvider>(_logs);
        });
    }

    [Fact]
    public async Task TrafficToAnAppInAHeldSlot_KeepsItInUse_WhileAHoldWithoutTrafficIsAskedAsBefore()
    {
        StartHost();
        var tested = await DeployedHoldAsync("qa-1");
        var forgotten = await ClaimedHoldAsync("qa-2");

        // Someone tests storefront in qa-1: requests reach it through the ingress controller, Prometheus sees them.
        await DriveTrafficAsync("qa-1", "storefront");

        _clock.Advance(TimeSpan.FromMinutes(35)); // past Idle:ReleaseAfter (30 min) for both holds' portal activity
        await RunAsync<AppTrafficPoll>(p => p.RunAsync());
        Assert.Equal(_clock.GetUtcNow().UtcDateTime, (await HoldAsync(tested)).LastActivityAt, TimeSpan.FromSeconds(1));
        Assert.Equal(_clock.GetUtcNow().UtcDateTime.AddMinutes(-35), (await HoldAsync(forgotten)).LastActivityAt, TimeSpan.FromSeconds(1));

        await RunAsync<IdleGiveBack>(g => g.RunAsync());
        Assert.Null((await HoldAsync(tested)).KeepAskedAt);
        Assert.NotNull((await HoldAsync(forgotten)).KeepAskedAt);

        // A second poll within the minute writes nothing more (the same once-a-minute care as page views).
        Assert.Equal(0, await RunAsync<AppTrafficPoll>(p => p.RunAsync()));
    }

    [Fact]
    public async Task PrometheusDown_PortalActivityOnly_AndAWarningSaysSo()
    {
        StartHost(new() { ["Activity:Prometheus:Timeout"] = "00:00:01" });
        var tested = await DeployedHoldAsync("qa-1");
        await DriveTrafficAsync("qa-1", "storefront");
        await _prometheus.StopAsync();

        _clock.Advance(TimeSpan.FromMinutes(35));
        Assert.Equal(0, await RunAsync<AppTrafficPoll>(p => p.RunAsync())); // never throws out of the recurring job
        Assert.Equal(_clock.GetUtcNow().UtcDateTime.AddMinutes(-35), (await HoldAsync(tested)).LastActivityAt, TimeSpan.FromSeconds(1));
        var warning = Warning(); // the host's own recurring run may have warned too: the same sentence
        Assert.Contains($"App traffic not read: Prometheus at {_prometheus.Url}", warning.Message);
        Assert.Contains("holds keep their portal activity only", warning.Message);

        await RunAsync<IdleGiveBack>(g => g.RunAsync());
        Assert.NotNull((await HoldAsync(tested)).KeepAskedAt); // asked as without Prometheus
    }

    [Fact]
    public async Task AQueryPrometheusRefuses_IsAWarningWithItsAnswer_NotAFailedJob()
    {
        StartHost(new() { ["Activity:Prometheus:Query"] = "sum by (exported_namespace) (increase(", ["Activity:Prometheus:Label"] = "exported_namespace" });
        var held = await ClaimedHoldAsync("qa-1");

        Assert.Equal(0, await RunAsync<AppTrafficPoll>(p => p.RunAsync()));
        var warning = Warning(); // the host's own recurring run may have warned too: the same sentence
        Assert.Contains("answered 400", warning.Message);
        Assert.Contains("parse error", warning.Message);
        Assert.Equal(_clock.GetUtcNow().UtcDateTime, (await HoldAsync(held)).LastActivityAt, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task TrafficToAnAppThatDoesNotExist_IsRefusedByTheEmulator()
    {
        StartHost();
        Assert.Equal("services \"storefront\" not found in namespace \"qa-9\"", _h.Emulator.SimulateRequests("qa-9", "storefront", 5));
        using var http = new HttpClient { BaseAddress = _h.Emulator.BaseAddress };
        using var missing = await http.PostAsync("emulator/traffic/qa-9/storefront?requests=3", null);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        using var bad = await http.PostAsync("emulator/traffic/qa-9/storefront?requests=0", null);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.DoesNotContain("qa-9", await http.GetStringAsync("metrics"));
    }

    /// <summary>Requests to the app, until Prometheus's increase over the poll's window sees them (a counter's first sample is not an increase).</summary>
    private async Task DriveTrafficAsync(string slot, string app)
    {
        Assert.Null(_h.Emulator.SimulateRequests(slot, app, 1));
        await _prometheus.WaitForAsync($"sum(nginx_ingress_controller_requests{{exported_namespace=\"{slot}\"}})", v => v >= 1);
        Assert.Null(_h.Emulator.SimulateRequests(slot, app, 20));
        await _prometheus.WaitForAsync(QaOneRequests.Replace("qa-1", slot, StringComparison.Ordinal), v => v > 0);
    }

    private (LogLevel Level, string Category, string Message) Warning() =>
        _logs.Entries.First(e => e.Level == LogLevel.Warning && e.Category == typeof(AppTrafficPoll).FullName);

    private async Task<long> DeployedHoldAsync(string slot)
    {
        var deployed = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "storefront", "main", slot)).Id);
        Assert.Equal(DeploymentState.Succeeded, deployed.State);
        return deployed.HoldId!.Value;
    }

    private async Task<long> ClaimedHoldAsync(string slot)
    {
        var actions = _h.Service<HoldActions>(out var scope);
        using (scope)
        {
            var claim = await actions.ClaimAsync(TestUsers.Devon, new ClaimRequest(await _h.SlotIdAsync(slot), "forgotten", null));
            Assert.True(claim.Succeeded, claim.Failure?.Message);
            return claim.Value!.Id;
        }
    }

    private async Task<TResult> RunAsync<TService, TResult>(Func<TService, Task<TResult>> run) where TService : notnull
    {
        var service = _h.Service<TService>(out var scope);
        using (scope)
        {
            return await run(service);
        }
    }

    private Task<int> RunAsync<TService>(Func<TService, Task<int>> run) where TService : notnull => RunAsync<TService, int>(run);

    private async Task<Hold> HoldAsync(long id)
    {
        await using var db = _h.Database.Factory.CreateDbContext();
        return await db.Holds.AsNoTracking().SingleAsync(h => h.Id == id);
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DeployPortal.Web.Tests.Insights;

/// <summary>Prometheus scrapes <c>/metrics</c> of a real portal host: the series, their values, and access.</summary>
public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private static readonly DateTime Now = DateTime.UtcNow;
    private TestDatabase _database = default!;
    private InsightsData _data = default!;
    private PortalHost? _host;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        _data = new InsightsData(_database.Factory);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    private async Task<Slot> SlotAsync(string name)
    {
        await using var db = _database.Factory.CreateDbContext();
        return await db.Slots.SingleAsync(s => s.Name == name);
    }

    [Fact]
    public async Task Scrape_ReportsSlotsHoldsAndDeployments_AndObservesEachDurationOnce()
    {
        _host = new PortalHost(_database);
        using var client = _host.CreateLoopbackClient(); // starts the host, which seeds qa-1 … qa-4
        var qa1 = await SlotAsync("qa-1");
        var qa2 = await SlotAsync("qa-2");
        var hold = await _data.HoldAsync(qa1, "dana", Now.AddHours(-1), null);
        await _data.HoldAsync(qa2, "devon", Now.AddHours(-5), Now.AddHours(-3), ReleaseReason.Expired);
        await _data.HoldAsync(qa2, "quinn", Now.AddHours(-3), Now.AddHours(-2), ReleaseReason.QaDone, QaOutcome.Pass);
        await _data.DeploymentAsync(qa1, hold, "main", DeploymentState.Succeeded, Now.AddMinutes(-50), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(45));
        await _data.DeploymentAsync(qa1, hold, "feature/x", DeploymentState.Succeeded, Now.AddMinutes(-40), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(200));
        await _data.DeploymentAsync(qa1, hold, "crash", DeploymentState.Failed, Now.AddMinutes(-30), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
        var running = await _data.DeploymentAsync(qa1, hold, "slow", DeploymentState.Running, Now.AddMinutes(-1), TimeSpan.FromSeconds(1), null);
        await _data.DeploymentAsync(qa1, hold, "next", DeploymentState.Queued, Now, null, null);

        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var m = Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(1, m["deployportal_slot_held{slot=\"qa-1\"}"]);
        Assert.Equal(0, m["deployportal_slot_held{slot=\"qa-2\"}"]);
        Assert.Equal(1, m["deployportal_slots_held"]);
        Assert.Equal(4, m["deployportal_slots_enabled"]);
        Assert.Equal(1, m["deployportal_holds_ended_total{reason=\"expired\"}"]);
        Assert.Equal(1, m["deployportal_holds_ended_total{reason=\"qa_done\"}"]);
        Assert.Equal(0, m["deployportal_holds_ended_total{reason=\"released\"}"]);
        Assert.Equal(0, m["deployportal_holds_ended_total{reason=\"forced\"}"]);
        Assert.Equal(1, m["deployportal_deployments_active{state=\"running\"}"]);
        Assert.Equal(1, m["deployportal_deployments_active{state=\"queued\"}"]);
        Assert.Equal(2, m["deployportal_deployments_finished_total{state=\"succeeded\"}"]);
        Assert.Equal(1, m["deployportal_deployments_finished_total{state=\"failed\"}"]);
        Assert.Equal(2, m["deployportal_deployment_duration_seconds_count{state=\"succeeded\"}"]);
        Assert.Equal(245, m["deployportal_deployment_duration_seconds_sum{state=\"succeeded\"}"], 3);
        Assert.Equal(1, Bucket(m, "succeeded", 60));
        Assert.Equal(2, Bucket(m, "succeeded", 300));
        Assert.Equal(1, Bucket(m, "failed", 30));

        // The running deployment finishes; the next scrape observes it, and nothing twice.
        await using (var db = _database.Factory.CreateDbContext())
        {
            await db.Deployments.Where(d => d.Id == running.Id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, DeploymentState.Succeeded).SetProperty(d => d.FinishedAt, d => d.StartedAt!.Value.AddSeconds(8)));
        }

        m = Parse(await client.GetStringAsync("/metrics"));
        Assert.Equal(3, m["deployportal_deployment_duration_seconds_count{state=\"succeeded\"}"]);
        m = Parse(await client.GetStringAsync("/metrics"));
        Assert.Equal(3, m["deployportal_deployment_duration_seconds_count{state=\"succeeded\"}"]);
        Assert.Equal(3, m["deployportal_deployments_finished_total{state=\"succeeded\"}"]);
        Assert.Equal(1, m["deployportal_deployment_duration_seconds_count{state=\"failed\"}"]);
        Assert.Equal(0, m["deployportal_deployments_active{state=\"running\"}"]);
    }

    [Fact]
    public async Task RequireToken_RefusesAnonymousScrapes_AndAcceptsAPersonalAccessToken()
    {
        _host = new PortalHost(_database, settings: new Dictionary<string, string?> { ["Metrics:RequireToken"] = "true" });
        using var client = _host.CreateLoopbackClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/metrics")).StatusCode);

        var tokens = _host.Services.CreateScope().ServiceProvider.GetRequiredService<AccessTokenService>();
        var token = await tokens.CreateAsync(TestUsers.Viewer, new CreateAccessTokenRequest("prometheus", TimeSpan.FromDays(30)));
        Assert.True(token.Succeeded, token.Failure?.Message);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Value!.Secret);
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("deployportal_slots_held 0", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ByDefault_MetricsNeedNoSignIn()
    {
        _host = new PortalHost(_database);
        using var client = _host.CreateLoopbackClient();

        var response = await client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("# TYPE deployportal_deployment_duration_seconds histogram", await response.Content.ReadAsStringAsync());
    }

    private static double Bucket(Dictionary<string, double> metrics, string state, double le) =>
        metrics.Single(kv => kv.Key.StartsWith($"deployportal_deployment_duration_seconds_bucket{{state=\"{state}\",le=\"", StringComparison.Ordinal)
            && double.TryParse(kv.Key.Split("le=\"")[1].TrimEnd('"', '}'), CultureInfo.InvariantCulture, out var bound) && bound == le).Value;

    /// <summary>Prometheus text format: <c>name{labels} value</c> per line, comments skipped.</summary>
    private static Dictionary<string, double> Parse(string text) => text.Split('\n')
        .Where(line => line.Length > 0 && !line.StartsWith('#'))
        .Select(line => (Key: line[..line.LastIndexOf(' ')], Value: double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)))
        .ToDictionary(x => x.Key, x => x.Value);
}

using DeployPortal.Web.Audit;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace DeployPortal.Web.Tests.Slots;

/// <summary>
/// Automatic sleep as it runs in production: the portal host with its Hangfire jobs, the real KubernetesClient against
/// the Kubernetes API emulator, and a fake clock for the half hour of idleness; in both deployment modes (in GitOps mode
/// the sleep is a commit that the emulator's Argo CD-like controller applies).
/// </summary>
public abstract class IdleSleepClusterTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private DeployHarness _h = default!;

    protected abstract bool GitOps { get; }

    public async Task InitializeAsync()
    {
        _h = await DeployHarness.CreateAsync(startHost: false, mode: GitOps ? DeploymentMode.GitOps : DeploymentMode.Direct);
        _h.StartHost(services: s => s.AddSingleton<TimeProvider>(_clock));
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task IdleHold_FallsAsleepAfterSleepAfter_PodsGo_AndADeployWakesIt()
    {
        var first = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "storefront", "main", "qa-1")).Id);
        Assert.Equal(Web.Data.DeploymentState.Succeeded, first.State);
        Assert.Equal(2, (await _h.WaitForPodsAsync("qa-1", "storefront", pods => pods.Count(p => p.Status.ContainerStatuses?.All(c => c.Ready) == true) == 2)).Count);

        // 29 minutes unused: still awake.
        _clock.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(0, await RunSleepAsync());
        Assert.Null((await HoldAsync(first.HoldId!.Value)).SleepingSince);

        // Past Idle:SleepAfter (30 min by default): asleep, once, however often the job runs (here and the portal's own
        // minutely run, which may get there first); the hold stays.
        _clock.Advance(TimeSpan.FromMinutes(2));
        await RunSleepAsync();
        Assert.Equal(0, await RunSleepAsync());
        var asleep = await HoldAsync(first.HoldId!.Value);
        Assert.Equal(_clock.GetUtcNow().UtcDateTime, asleep.SleepingSince!.Value, TimeSpan.FromSeconds(1));
        Assert.Null(asleep.ReleasedAt);
        var scaled = await _h.WaitForDeploymentAsync("qa-1", "storefront", d => d.Spec.Replicas == 0 && (d.Status.Replicas ?? 0) == 0);
        Assert.Equal("2", scaled.Metadata.Annotations[ManifestBuilder.ReplicasBeforeSleepAnnotation]);
        Assert.Empty(await _h.WaitForPodsAsync("qa-1", "storefront", pods => pods.Count == 0));
        await using (var db = _h.Database.Factory.CreateDbContext())
        {
            var audit = await db.AuditEvents.Where(a => a.Action == AuditActions.Sleep).ToListAsync();
            Assert.Contains("unused for 31 min", Assert.Single(audit).Details);
        }

        if (GitOps)
        {
            Assert.Equal("Sleep qa-1 storefront: idle 31 min", (await _h.ConfigGitAsync("log", "-1", "--format=%s", "main")).Trim());
        }

        // A deploy wakes it: the other replicas come back ready and the remembered count is gone.
        var second = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "storefront", "feature/login", "qa-1")).Id);
        Assert.Equal(Web.Data.DeploymentState.Succeeded, second.State);
        Assert.Null((await HoldAsync(first.HoldId!.Value)).SleepingSince);
        var awake = await _h.WaitForDeploymentAsync("qa-1", "storefront",
            d => d.Status.AvailableReplicas == 2 && d.Metadata.Annotations?.ContainsKey(ManifestBuilder.ReplicasBeforeSleepAnnotation) != true);
        Assert.Equal(2, awake.Spec.Replicas);
        Assert.Equal(2, (await _h.WaitForPodsAsync("qa-1", "storefront", pods => pods.Count(p => p.Status.ContainerStatuses?.All(c => c.Ready) == true) == 2)).Count);

        // Just deployed: not idle, so the next run leaves it awake.
        Assert.Equal(0, await RunSleepAsync());
    }

    [Fact]
    public async Task HoldWithNothingDeployed_StaysAwake()
    {
        using (var scope = _h.Host.Services.CreateScope())
        {
            var claim = await scope.ServiceProvider.GetRequiredService<HoldActions>().ClaimAsync(TestUsers.Dana, new ClaimRequest(await _h.SlotIdAsync("qa-2"), "nothing yet", null));
            Assert.True(claim.Succeeded, claim.Failure?.Message);
        }

        _clock.Advance(TimeSpan.FromMinutes(45));
        Assert.Equal(0, await RunSleepAsync());
        await using var db = _h.Database.Factory.CreateDbContext();
        Assert.All(await db.Holds.ToListAsync(), h => Assert.Null(h.SleepingSince));
    }

    private async Task<int> RunSleepAsync()
    {
        var sleep = _h.Service<IdleSleep>(out var scope);
        using (scope)
        {
            return await sleep.RunAsync();
        }
    }

    private async Task<Hold> HoldAsync(long id)
    {
        await using var db = _h.Database.Factory.CreateDbContext();
        return await db.Holds.AsNoTracking().SingleAsync(h => h.Id == id);
    }
}

public sealed class DirectIdleSleepClusterTests : IdleSleepClusterTests
{
    protected override bool GitOps => false;
}

public sealed class GitOpsIdleSleepClusterTests : IdleSleepClusterTests
{
    protected override bool GitOps => true;
}

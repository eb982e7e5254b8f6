using System.Net;
using System.Security.Claims;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using DeployPortal.Web.Waitlist;
using k8s;
using k8s.Autorest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace DeployPortal.Web.Tests.Slots;

public sealed class SqliteElasticSlotsTests() : ElasticSlotsTests(DatabaseProvider.Sqlite);

public sealed class PostgresElasticSlotsTests() : ElasticSlotsTests(DatabaseProvider.Postgres);

/// <summary>
/// Elastic slots as they run in production: the portal host with its Hangfire jobs, the real KubernetesClient against
/// the Kubernetes API emulator, the real database, and a fake clock for the time a surplus slot lingers. The four
/// demo slots are all held by Quinn first, so every deploy or queue join below finds none free.
/// </summary>
public abstract class ElasticSlotsTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private DeployHarness _h = default!;

    public async Task InitializeAsync()
    {
        _h = await DeployHarness.CreateAsync(provider, startHost: false);
        _h.StartHost(new Dictionary<string, string?>
        {
            ["Slots:Elastic:Enabled"] = "true",
            ["Slots:Elastic:MaxSlots"] = "2",
            ["Slots:Elastic:RemoveAfter"] = "00:30:00",
            ["Slots:Elastic:Quota:RequestsCpu"] = "1500m",
            ["Slots:Elastic:Limits:DefaultMemory"] = "256Mi",
        }, services: s => s.AddSingleton<TimeProvider>(_clock));
        using var scope = _h.Host.Services.CreateScope();
        var holds = scope.ServiceProvider.GetRequiredService<HoldActions>();
        foreach (var name in new[] { "qa-1", "qa-2", "qa-3", "qa-4" })
        {
            var claim = await holds.ClaimAsync(TestUsers.Quinn, new ClaimRequest(await _h.SlotIdAsync(name), "regression run", TimeSpan.FromHours(8)));
            Assert.True(claim.Succeeded, claim.Failure?.Message);
        }
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task AllHeld_DeployIntoAnySlot_MakesAnElasticSlotWithQuotaAndLimits_AndDeploysThere()
    {
        var result = await DeployAnyAsync(TestUsers.Dana);
        Assert.True(result.Succeeded, result.Failure?.Message);
        Assert.Equal("qa-e1", result.Value!.SlotName);
        var done = await _h.WaitFinishedAsync(result.Value.Id);
        Assert.Equal(DeploymentState.Succeeded, done.State);

        var ns = await _h.Kubernetes.CoreV1.ReadNamespaceAsync("qa-e1");
        Assert.Equal("true", ns.Metadata.Labels[ElasticManifests.ElasticLabel]);
        var quota = await _h.Kubernetes.CoreV1.ReadNamespacedResourceQuotaAsync(ElasticManifests.QuotaName, "qa-e1");
        Assert.Equal("1500m", quota.Spec.Hard["requests.cpu"].ToString());
        Assert.Equal("20", quota.Spec.Hard["pods"].ToString());
        var limits = await _h.Kubernetes.CoreV1.ReadNamespacedLimitRangeAsync(ElasticManifests.QuotaName, "qa-e1");
        Assert.Equal("256Mi", limits.Spec.Limits[0].DefaultProperty["memory"].ToString());
        Assert.Equal(2, (await _h.WaitForPodsAsync("qa-e1", "storefront", pods => pods.Count == 2)).Count);

        var slot = await SlotAsync("qa-e1");
        Assert.True(slot is { Elastic: true, Enabled: true, RemovedAt: null });
        var hold = Assert.Single(await ActiveHoldsAsync(slot.Id));
        Assert.Equal("dana", hold.HolderId);
        var audit = Assert.Single(await AuditAsync(AuditActions.ElasticCreated));
        Assert.Equal("Dana Developer", audit.ActorName);
        Assert.Contains("1 of 2 elastic slots", audit.Details);
        var card = Assert.Single((await _h.Service<BoardQueries>(out var scope).GetBoardAsync()), c => c.Name == "qa-e1");
        scope.Dispose();
        Assert.True(card.Elastic);
    }

    [Fact]
    public async Task TwelveAtOnce_TheBudgetOfTwoHolds_TheRestAreToldToQueue()
    {
        var users = Enumerable.Range(1, 12).Select(i => TestUsers.Make($"dev-{i}", $"Dev {i}", "Developer")).ToArray();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = users.Select(user => Task.Run(async () =>
        {
            await start.Task;
            var pool = _h.Service<ElasticPool>(out var scope);
            using (scope)
            {
                return await pool.CreateAsync(Web.Auth.Actor.From(user));
            }
        })).ToArray();
        start.SetResult();
        var results = await Task.WhenAll(attempts);

        Assert.Equal(2, results.Count(r => r.Succeeded));
        Assert.All(results.Where(r => !r.Succeeded), r => Assert.Contains("elastic budget is spent (2 of 2 elastic slots in use). Join the queue", r.Failure!.Message));
        Assert.Equal(["qa-e1", "qa-e2"], results.Where(r => r.Succeeded).Select(r => r.Value!.Name).Order());
        await using (var db = _h.Database.Factory.CreateDbContext())
        {
            Assert.Equal(2, await db.Slots.CountAsync(s => s.Elastic));
        }

        var elastic = await _h.Kubernetes.CoreV1.ListNamespaceAsync(labelSelector: $"{ElasticManifests.ElasticLabel}=true");
        Assert.Equal(["qa-e1", "qa-e2"], elastic.Items.Select(n => n.Metadata.Name).Order());
    }

    [Fact]
    public async Task ReleasedElasticSlot_IsRemovedAfterRemoveAfter_AndItsNameReusedNextTime()
    {
        var deployed = await DeployAnyAsync(TestUsers.Dana);
        Assert.True(deployed.Succeeded, deployed.Failure?.Message);
        await _h.WaitFinishedAsync(deployed.Value!.Id);
        await ReleaseAsync(TestUsers.Dana, "qa-e1");

        // 29 minutes free: kept.
        _clock.Advance(TimeSpan.FromMinutes(29));
        await RunReaperAsync();
        Assert.Null((await SlotAsync("qa-e1")).RemovedAt);
        await _h.Kubernetes.CoreV1.ReadNamespaceAsync("qa-e1");

        // Past RemoveAfter: the namespace is deleted, the row marked removed (kept for the history) and the board no longer shows it.
        _clock.Advance(TimeSpan.FromMinutes(2));
        await RunReaperAsync();
        var removed = await SlotAsync("qa-e1");
        Assert.NotNull(removed.RemovedAt);
        Assert.False(removed.Enabled);
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => _h.Kubernetes.CoreV1.ReadNamespaceAsync("qa-e1"));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
        Assert.Contains("free for 30 min", Assert.Single(await AuditAsync(AuditActions.ElasticRemoved)).Details);
        using (var scope = _h.Host.Services.CreateScope())
        {
            Assert.DoesNotContain(await scope.ServiceProvider.GetRequiredService<BoardQueries>().GetBoardAsync(), c => c.Name == "qa-e1");
            Assert.Equal(0, (await scope.ServiceProvider.GetRequiredService<ElasticBudgets>().GetAsync()).Used);
        }

        // The next elastic slot takes the removed row again: same name, same history.
        var again = await DeployAnyAsync(TestUsers.Devon);
        Assert.True(again.Succeeded, again.Failure?.Message);
        Assert.Equal("qa-e1", again.Value!.SlotName);
        Assert.Equal(removed.Id, again.Value.SlotId);
        Assert.Null((await SlotAsync("qa-e1")).RemovedAt);
        await _h.Kubernetes.CoreV1.ReadNamespacedResourceQuotaAsync(ElasticManifests.QuotaName, "qa-e1");
    }

    [Fact]
    public async Task ElasticSlotClaimedAgainBeforeRemoveAfter_IsKept()
    {
        var deployed = await DeployAnyAsync(TestUsers.Dana);
        Assert.True(deployed.Succeeded, deployed.Failure?.Message);
        await _h.WaitFinishedAsync(deployed.Value!.Id);
        await ReleaseAsync(TestUsers.Dana, "qa-e1");

        _clock.Advance(TimeSpan.FromMinutes(20));
        var slot = await SlotAsync("qa-e1");
        using (var scope = _h.Host.Services.CreateScope())
        {
            var claim = await scope.ServiceProvider.GetRequiredService<HoldActions>().ClaimAsync(TestUsers.Devon, new ClaimRequest(slot.Id, "second look", TimeSpan.FromHours(1)));
            Assert.True(claim.Succeeded, claim.Failure?.Message);
        }

        // Held: never removed, however long.
        _clock.Advance(TimeSpan.FromMinutes(50));
        await RunReaperAsync();
        Assert.Null((await SlotAsync("qa-e1")).RemovedAt);

        // Released again: the half hour counts from this release, not the first.
        await ReleaseAsync(TestUsers.Devon, "qa-e1");
        _clock.Advance(TimeSpan.FromMinutes(15));
        await RunReaperAsync();
        Assert.Null((await SlotAsync("qa-e1")).RemovedAt);
        await _h.Kubernetes.CoreV1.ReadNamespaceAsync("qa-e1");
        Assert.Empty(await AuditAsync(AuditActions.ElasticRemoved));
    }

    [Fact]
    public async Task TwoRemovalRunsAtOnce_RemoveTheSlotOnce()
    {
        var deployed = await DeployAnyAsync(TestUsers.Dana);
        Assert.True(deployed.Succeeded, deployed.Failure?.Message);
        await _h.WaitFinishedAsync(deployed.Value!.Id);
        await ReleaseAsync(TestUsers.Dana, "qa-e1");
        _clock.Advance(TimeSpan.FromMinutes(31));

        // Two replicas' minutely jobs (or a run overlapping the last) at the same moment.
        await Task.WhenAll(RunReaperAsync(), RunReaperAsync(), RunReaperAsync());

        Assert.NotNull((await SlotAsync("qa-e1")).RemovedAt);
        Assert.Single(await AuditAsync(AuditActions.ElasticRemoved));
    }

    [Fact]
    public async Task ClusterAnswers500_NoSlotIsHandedOut_NothingIsLeft_AndTheNextTrySucceeds()
    {
        // The namespace is made, then every write of its ResourceQuota fails with 500 (through the client's retries).
        _h.Emulator.Faults.PathContains = "/resourcequotas";
        _h.Emulator.Faults.ErrorStatusCodes = [500];
        _h.Emulator.Faults.ErrorRate = 1;
        var refused = await DeployAnyAsync(TestUsers.Dana);
        _h.Emulator.Faults.Reset();

        Assert.False(refused.Succeeded);
        Assert.Contains("A new slot could not be made: the cluster refused namespace qa-e1", refused.Failure!.Message);
        Assert.Contains("Nothing was left behind", refused.Failure.Message);
        await using (var db = _h.Database.Factory.CreateDbContext())
        {
            Assert.False(await db.Slots.AnyAsync(s => s.Elastic));
            Assert.False(await db.Deployments.AnyAsync(d => d.RequestedById == "dana"));
        }

        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => _h.Kubernetes.CoreV1.ReadNamespaceAsync("qa-e1"));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);

        var retried = await DeployAnyAsync(TestUsers.Dana);
        Assert.True(retried.Succeeded, retried.Failure?.Message);
        Assert.Equal("qa-e1", retried.Value!.SlotName);
    }

    [Fact]
    public async Task AllHeld_JoiningTheQueue_IsServedAtOnceByAnElasticSlot_UntilTheBudgetIsSpent()
    {
        var waitlist = _h.Service<WaitlistService>(out var scope);
        using (scope)
        {
            var first = await waitlist.JoinAsync(TestUsers.Dana, new JoinQueueRequest("storefront", "main", "checkout test", null));
            Assert.True(first.Succeeded, first.Failure?.Message);
            Assert.Equal(WaitlistState.Served, first.Value!.State);
            Assert.Equal("qa-e1", first.Value.ServedSlotName);

            var second = await waitlist.JoinAsync(TestUsers.Devon, new JoinQueueRequest("payments", "main", "refunds", null));
            Assert.Equal("qa-e2", second.Value!.ServedSlotName);

            // The budget (2) is spent: the third waits, and a deploy into "any slot" is refused with the queue offered.
            var third = await waitlist.JoinAsync(TestUsers.Ada, new JoinQueueRequest("storefront", "feature/login", "login", null));
            Assert.Equal(WaitlistState.Waiting, third.Value!.State);
        }

        var refused = await DeployAnyAsync(TestUsers.Make("erin", "Erin Developer", "Developer"));
        Assert.Contains("Every slot is held and the elastic budget is spent (2 of 2 elastic slots in use). Join the queue", refused.Failure!.Message);
    }

    [Fact]
    public async Task QueueJoinDuringAClusterFailure_Waits_ThenTheMinutelyJobServesIt()
    {
        _h.Emulator.Faults.PathContains = "/namespaces/qa-e1";
        _h.Emulator.Faults.Method = "PATCH"; // making the namespace fails; deleting what was made does not
        _h.Emulator.Faults.ErrorStatusCodes = [500];
        _h.Emulator.Faults.ErrorRate = 1;
        var waitlist = _h.Service<WaitlistService>(out var scope);
        using (scope)
        {
            var joined = await waitlist.JoinAsync(TestUsers.Dana, new JoinQueueRequest("storefront", "main", "checkout test", null));
            Assert.True(joined.Succeeded, joined.Failure?.Message);
            Assert.Equal(WaitlistState.Waiting, joined.Value!.State);
        }

        await using (var db = _h.Database.Factory.CreateDbContext())
        {
            // Nothing handed out while the cluster fails (the host's own minutely job may be trying at this moment too,
            // so a row being made and cleaned up again is not asserted on).
            Assert.False(await db.Holds.AnyAsync(h => h.ReleasedAt == null && h.Slot!.Elastic));
            Assert.Equal(WaitlistState.Waiting, (await db.Waitlist.AsNoTracking().SingleAsync()).State);
        }

        // The cluster answers again: the next run of the minutely job makes the slot and hands it over.
        _h.Emulator.Faults.Reset();
        await RunReaperAsync();
        await using (var db = _h.Database.Factory.CreateDbContext())
        {
            var entry = await db.Waitlist.AsNoTracking().SingleAsync();
            Assert.Equal(WaitlistState.Served, entry.State);
            var hold = await db.Holds.AsNoTracking().Include(h => h.Slot).SingleAsync(h => h.Id == entry.HoldId);
            Assert.Equal(("qa-e1", "dana"), (hold.Slot!.Name, hold.HolderId));
        }

        Assert.Equal("DeployPortal", Assert.Single(await AuditAsync(AuditActions.ElasticCreated)).ActorName);
    }

    [Fact]
    public async Task Budget_AdminRaisesIt_Audited_OthersAndNonsenseRefused()
    {
        var budgets = _h.Service<ElasticBudgets>(out var scope);
        using (scope)
        {
            Assert.Equal(Web.Common.FailureKind.Forbidden, FailureKindOf(await budgets.SetAsync(TestUsers.Dana, 5)));
            var invalid = await budgets.SetAsync(TestUsers.Ada, -1);
            Assert.Contains("from 0 to 200", invalid.Failure!.Message);
            Assert.Equal(2, (await budgets.GetAsync()).Max);

            var raised = await budgets.SetAsync(TestUsers.Ada, 3);
            Assert.True(raised.Succeeded, raised.Failure?.Message);
            Assert.Equal(3, raised.Value!.Max);
            Assert.True(raised.Value.Overridden);
            Assert.Contains("from 2 to 3 slots", Assert.Single(await AuditAsync(AuditActions.ElasticBudget)).Details);
        }

        for (var i = 1; i <= 3; i++)
        {
            var made = await DeployAnyAsync(TestUsers.Make($"dev-{i}", $"Dev {i}", "Developer"));
            Assert.True(made.Succeeded, made.Failure?.Message);
        }

        Assert.False((await DeployAnyAsync(TestUsers.Devon)).Succeeded);
    }

    private static Web.Common.FailureKind? FailureKindOf<T>(Web.Common.Result<T> result) => result.Failure?.Kind;

    private async Task<Web.Common.Result<DeploymentView>> DeployAnyAsync(ClaimsPrincipal user)
    {
        var deployments = _h.Service<DeploymentService>(out var scope);
        using (scope)
        {
            return await deployments.CreateAsync(user, new DeployRequest("storefront", "main", ElasticPool.AnySlot, "elastic test", TimeSpan.FromHours(2)));
        }
    }

    private async Task ReleaseAsync(ClaimsPrincipal user, string slotName)
    {
        var slot = await SlotAsync(slotName);
        var hold = Assert.Single(await ActiveHoldsAsync(slot.Id));
        using (var scope = _h.Host.Services.CreateScope())
        {
            var released = await scope.ServiceProvider.GetRequiredService<HoldActions>().ReleaseAsync(user, new ReleaseRequest(slot.Id, hold.Id));
            Assert.True(released.Succeeded, released.Failure?.Message);
        }

        // The teardown job removes what ran there; a slot being cleaned is left alone by the removal job.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await SlotAsync(slotName)).CleaningSince is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{slotName} was never cleaned");
            await Task.Delay(50);
        }
    }

    private async Task RunReaperAsync()
    {
        var reaper = _h.Service<ElasticReaper>(out var scope);
        using (scope)
        {
            await reaper.RunAsync();
        }
    }

    private async Task<Slot> SlotAsync(string name)
    {
        await using var db = _h.Database.Factory.CreateDbContext();
        return await db.Slots.AsNoTracking().SingleAsync(s => s.Name == name);
    }

    private async Task<List<Hold>> ActiveHoldsAsync(int slotId)
    {
        await using var db = _h.Database.Factory.CreateDbContext();
        return await db.Holds.AsNoTracking().Where(h => h.SlotId == slotId && h.ReleasedAt == null).ToListAsync();
    }

    private async Task<List<AuditEvent>> AuditAsync(string action)
    {
        await using var db = _h.Database.Factory.CreateDbContext();
        return await db.AuditEvents.AsNoTracking().Where(a => a.Action == action).OrderBy(a => a.Id).ToListAsync();
    }
}

using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Deployments;

/// <summary>
/// Double submits from the deploy form (two clicks, two tabs) reach the same service as the API: identical requests
/// collapse into the deployment already waiting. Jobs are only recorded here, so every deployment stays Queued: nothing
/// reaches the cluster or a configuration repository, so these run once, not in each deployment mode.
/// </summary>
public sealed class IdenticalDeployTests
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Deploy_TenIdenticalRequestsAtOnce_IntoAFreeSlot_QueueOneDeployment_AndEveryAnswerNamesIt(DatabaseProvider provider)
    {
        await using var h = await WaitlistHarness.CreateAsync(provider);
        var slot = await h.Slots.AddSlotAsync("qa-1");

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() =>
            h.Deployments.CreateAsync(TestUsers.Dana, new DeployRequest("storefront", "feature/login", slot.Id, "double submit", null)))));

        Assert.All(results, r => Assert.True(r.Succeeded, r.Failure?.Message));
        Assert.Single(results.Select(r => r.Value!.Id).Distinct());
        await using var db = h.Database.Factory.CreateDbContext();
        Assert.Equal(1, await db.Deployments.CountAsync(d => d.SlotId == slot.Id));
        Assert.Equal(1, await db.Holds.CountAsync(h => h.SlotId == slot.Id));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Deploy_IntoAHeldSlot_AnotherBranchOrAnotherPerson_IsNotCollapsed(DatabaseProvider provider)
    {
        await using var h = await WaitlistHarness.CreateAsync(provider);
        var slot = await h.Slots.AddSlotAsync("qa-1");

        var first = await h.Deployments.CreateAsync(TestUsers.Dana, new DeployRequest("storefront", "main", slot.Id, "first", null));
        var again = await h.Deployments.CreateAsync(TestUsers.Dana, new DeployRequest("storefront", "main", slot.Id));
        var otherBranch = await h.Deployments.CreateAsync(TestUsers.Dana, new DeployRequest("storefront", "feature/login", slot.Id));
        var otherApp = await h.Deployments.CreateAsync(TestUsers.Dana, new DeployRequest("payments", "main", slot.Id));
        var admin = await h.Deployments.CreateAsync(TestUsers.Ada, new DeployRequest("storefront", "main", slot.Id));

        Assert.Equal(first.Value!.Id, again.Value!.Id);
        Assert.Equal(4, new[] { first, otherBranch, otherApp, admin }.Select(r => r.Value!.Id).Distinct().Count());
    }
}

using System.Security.Claims;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Authorization;

/// <summary>One portal and cluster for every case of the deployment authorization matrix.</summary>
public sealed class DeployHarnessFixture : IAsyncLifetime
{
    internal DeployHarness Harness { get; private set; } = default!;

    public async Task InitializeAsync() => Harness = await DeployHarness.CreateAsync();

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>Every deployment operation × every role, through <see cref="DeploymentService"/>; a refusal changes nothing.</summary>
public sealed class DeploymentAuthorizationTests(DeployHarnessFixture fixture) : IClassFixture<DeployHarnessFixture>
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["deploy-into-free-slot"] = [PortalRoles.Developer, PortalRoles.QA, PortalRoles.Admin],
        ["deploy-into-own-slot"] = [PortalRoles.Developer, PortalRoles.QA, PortalRoles.Admin],
        ["deploy-into-others-slot"] = [PortalRoles.Admin],
        ["cancel-own-deployment"] = [PortalRoles.Developer, PortalRoles.QA, PortalRoles.Admin],
        ["cancel-others-deployment"] = [PortalRoles.Admin],
    };

    public static IEnumerable<object[]> Cases() =>
        from op in Allowed.Keys from role in PortalRoles.All select new object[] { role, op, Allowed[op].Contains(role) };

    private DeployHarness H => fixture.Harness;

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task DeploymentService_EveryOperationAsEveryRole_IsAllowedOnlyForTheRolesInTheTable(string role, string operation, bool allowed)
    {
        var actor = Matrix.Actor(role);
        var slot = await AddSlotAsync();
        var now = DateTime.UtcNow;
        Deployment? existing = null;
        switch (operation)
        {
            case "deploy-into-own-slot":
                await Matrix.AddHoldAsync(H.Database.Factory, slot.Id, actor, now);
                break;
            case "deploy-into-others-slot":
                await Matrix.AddHoldAsync(H.Database.Factory, slot.Id, TestUsers.Devon, now);
                break;
            case "cancel-own-deployment":
                existing = await AddQueuedDeploymentAsync(slot, await Matrix.AddHoldAsync(H.Database.Factory, slot.Id, actor, now), actor);
                break;
            case "cancel-others-deployment":
                existing = await AddQueuedDeploymentAsync(slot, await Matrix.AddHoldAsync(H.Database.Factory, slot.Id, TestUsers.Devon, now), TestUsers.Devon);
                break;
        }

        var before = await SnapshotAsync(slot.Id);
        var service = H.Service<DeploymentService>(out var scope);
        Failure? failure;
        using (scope)
        {
            failure = operation.StartsWith("cancel", StringComparison.Ordinal)
                ? (await service.CancelAsync(actor, existing!.Id)).Failure
                : (await service.CreateAsync(actor, new DeployRequest("payments", "main", slot.Id, "matrix"))).Failure;
        }

        if (allowed)
        {
            Assert.Null(failure);
            Assert.NotEqual(before, await SnapshotAsync(slot.Id));
        }
        else
        {
            Assert.NotNull(failure);
            Assert.Contains(failure.Kind, new[] { FailureKind.Forbidden, FailureKind.Conflict });
            Assert.Equal(before, await SnapshotAsync(slot.Id));
        }
    }

    private async Task<Slot> AddSlotAsync()
    {
        var name = "m-" + Guid.NewGuid().ToString("N")[..8];
        await using var db = H.Database.Factory.CreateDbContext();
        var slot = new Slot { Name = name, Namespace = name, CreatedAt = DateTime.UtcNow };
        db.Slots.Add(slot);
        await db.SaveChangesAsync();
        return slot;
    }

    /// <summary>A queued deployment that no job will pick up (nothing enqueued it), so only the cancel changes it.</summary>
    private async Task<Deployment> AddQueuedDeploymentAsync(Slot slot, Hold hold, ClaimsPrincipal by)
    {
        var actor = Actor.From(by);
        await using var db = H.Database.Factory.CreateDbContext();
        var deployment = new Deployment
        {
            SlotId = slot.Id,
            HoldId = hold.Id,
            App = "payments",
            Branch = "main",
            RequestedById = actor.Id,
            RequestedByName = actor.Name,
            State = DeploymentState.Queued,
            CreatedAt = DateTime.UtcNow.AddHours(1), // in the future: the reconciler leaves it alone
        };
        db.Deployments.Add(deployment);
        await db.SaveChangesAsync();
        return deployment;
    }

    /// <summary>
    /// The slot under test's deployments (earlier cases' deployments in other slots keep running on their own and
    /// would change the picture), plus the shared holds and audit log.
    /// </summary>
    private async Task<string> SnapshotAsync(int slotId)
    {
        await using var db = H.Database.Factory.CreateDbContext();
        var deployments = await db.Deployments.AsNoTracking().Where(d => d.SlotId == slotId).OrderBy(d => d.Id).Select(d => $"{d.Id}:{d.SlotId}:{d.State}:{d.CancelRequested}").ToListAsync();
        return await Matrix.SnapshotAsync(H.Database.Factory) + "\n" + string.Join('\n', deployments);
    }
}

using DeployPortal.Web.Audit;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Authorization;

/// <summary>
/// The authorization matrix through the slot services pages, API and jobs all call: <see cref="HoldActions"/> (claim,
/// extend, release) and <see cref="SlotAdmin"/> (add, edit, disable).
/// </summary>
public sealed class ServiceAuthorizationTests : IAsyncLifetime
{
    private SlotHarness _harness = default!;

    public async Task InitializeAsync() => _harness = await SlotHarness.CreateAsync(DatabaseProvider.Sqlite);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Theory]
    [MemberData(nameof(Matrix.AllCases), MemberType = typeof(Matrix))]
    public async Task SlotServices_EveryOperationAsEveryRole_IsAllowedOnlyForTheRolesInTheTable(string role, string operation, bool allowed)
    {
        var actor = Matrix.Actor(role);
        var now = _harness.Clock.GetUtcNow().UtcDateTime;
        var slot = await _harness.AddSlotAsync("qa-1");
        var hold = operation switch
        {
            Matrix.ExtendOwn or Matrix.ReleaseOwn => await Matrix.AddHoldAsync(_harness.Database.Factory, slot.Id, actor, now),
            Matrix.ExtendOthers or Matrix.QaReleaseOthers or Matrix.ForceReleaseOthers => await Matrix.AddHoldAsync(_harness.Database.Factory, slot.Id, TestUsers.Devon, now),
            _ => null,
        };
        var before = await Matrix.SnapshotAsync(_harness.Database.Factory);
        var (holds, admin) = (_harness.Actions, _harness.Admin);

        Failure? failure = operation switch
        {
            Matrix.Claim => (await holds.ClaimAsync(actor, new ClaimRequest(slot.Id, "matrix", null))).Failure,
            Matrix.ExtendOwn or Matrix.ExtendOthers => (await holds.ExtendAsync(actor, slot.Id, hold!.Id, TimeSpan.FromHours(1))).Failure,
            Matrix.ReleaseOwn or Matrix.ForceReleaseOthers => (await holds.ReleaseAsync(actor, new ReleaseRequest(slot.Id, hold!.Id))).Failure,
            Matrix.QaReleaseOthers => (await holds.ReleaseAsync(actor, new ReleaseRequest(slot.Id, hold!.Id, QaOutcome.Pass))).Failure,
            Matrix.AddSlot => (await admin.AddSlotAsync(actor, new SlotEdit("qa-9", "qa-9", "", ""))).Failure,
            Matrix.EditSlot => (await admin.EditSlotAsync(actor, slot.Id, new SlotEdit("qa-1", "qa-1-renamed", "edited", ""))).Failure,
            Matrix.DisableSlot => (await admin.SetEnabledAsync(actor, slot.Id, false)).Failure,
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };

        var after = await Matrix.SnapshotAsync(_harness.Database.Factory);
        var audit = await _harness.AuditAsync();
        if (allowed)
        {
            Assert.Null(failure);
            Assert.NotEqual(before, after);
            Assert.DoesNotContain(audit, a => a.Action == AuditActions.Denied);
        }
        else
        {
            Assert.NotNull(failure);
            // QA asked to force-release is told to record an outcome instead; every other refusal is Forbidden.
            Assert.Equal(role == Web.Auth.PortalRoles.QA && operation == Matrix.ForceReleaseOthers ? FailureKind.Invalid : FailureKind.Forbidden, failure.Kind);
            Assert.Equal(before, after);
            Assert.All(audit, a => Assert.Equal(AuditActions.Denied, a.Action));
        }
    }

    /// <summary>Which method each operation in <see cref="Matrix"/> goes through.</summary>
    private static readonly Dictionary<string, string> Through = new()
    {
        [Matrix.Claim] = $"{nameof(HoldActions)}.{nameof(HoldActions.ClaimAsync)}",
        [Matrix.ExtendOwn] = $"{nameof(HoldActions)}.{nameof(HoldActions.ExtendAsync)}",
        [Matrix.ExtendOthers] = $"{nameof(HoldActions)}.{nameof(HoldActions.ExtendAsync)}",
        [Matrix.ReleaseOwn] = $"{nameof(HoldActions)}.{nameof(HoldActions.ReleaseAsync)}",
        [Matrix.QaReleaseOthers] = $"{nameof(HoldActions)}.{nameof(HoldActions.ReleaseAsync)}",
        [Matrix.ForceReleaseOthers] = $"{nameof(HoldActions)}.{nameof(HoldActions.ReleaseAsync)}",
        [Matrix.AddSlot] = $"{nameof(SlotAdmin)}.{nameof(SlotAdmin.AddSlotAsync)}",
        [Matrix.EditSlot] = $"{nameof(SlotAdmin)}.{nameof(SlotAdmin.EditSlotAsync)}",
        [Matrix.DisableSlot] = $"{nameof(SlotAdmin)}.{nameof(SlotAdmin.SetEnabledAsync)}",
    };

    [Fact]
    public void SlotServices_EveryOperationACallerCanRequest_IsInTheMatrix()
    {
        // A caller-facing operation takes the caller; one added to either service without a row in the matrix fails here.
        var operations = new[] { typeof(HoldActions), typeof(SlotAdmin) }
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.DeclaredOnly)
                .Where(m => m.GetParameters().Any(p => p.ParameterType == typeof(System.Security.Claims.ClaimsPrincipal)))
                .Select(m => $"{t.Name}.{m.Name}"))
            .Order();

        Assert.Equal(operations, Through.Values.Distinct().Order());
        Assert.All(Matrix.AllCases(), c => Assert.True(Through.ContainsKey((string)c[1]), $"{c[1]} is not mapped to a method"));
    }

    [Fact]
    public async Task HoldActions_AnonymousCaller_IsRefusedEverything_AndTheRefusalIsAudited()
    {
        var slot = await _harness.AddSlotAsync("qa-1");

        var result = await _harness.Actions.ClaimAsync(TestUsers.Anonymous, new ClaimRequest(slot.Id, "sneaky", null));

        Assert.Equal(FailureKind.Forbidden, result.Failure?.Kind);
        Assert.Empty(await _harness.HoldsAsync(slot.Id));
        var denied = Assert.Single(await _harness.AuditAsync());
        Assert.Equal((AuditActions.Denied, "anonymous"), (denied.Action, denied.ActorId));
    }
}

/// <summary>The same event twice at once does the work once: on SQLite, and on PostgreSQL where the two really overlap.</summary>
public abstract class ReplayTests(DatabaseProvider provider) : IAsyncLifetime
{
    private SlotHarness _harness = default!;

    public async Task InitializeAsync() => _harness = await SlotHarness.CreateAsync(provider);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Extend_ReplayedTwiceInParallel_ExtendsOnce()
    {
        var slot = await _harness.AddSlotAsync("qa-1");
        var hold = (await _harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", TimeSpan.FromHours(2)))).Value!;

        var results = await Task.WhenAll(
            _harness.Actions.ExtendAsync(TestUsers.Dana, slot.Id, hold.Id, TimeSpan.FromHours(1), hold.Until),
            _harness.Actions.ExtendAsync(TestUsers.Dana, slot.Id, hold.Id, TimeSpan.FromHours(1), hold.Until));

        Assert.Single(results, r => r.Succeeded);
        Assert.Equal(hold.Until + TimeSpan.FromHours(1), Assert.Single(await _harness.HoldsAsync(slot.Id)).Until);
        Assert.Single(await _harness.AuditAsync(slot.Id), a => a.Action == AuditActions.Extend);
    }

    [Fact]
    public async Task Release_ReplayedTwiceInParallel_ReleasesOnce()
    {
        var slot = await _harness.AddSlotAsync("qa-1");
        var hold = (await _harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null))).Value!;

        var results = await Task.WhenAll(
            _harness.Actions.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(slot.Id, hold.Id, QaOutcome.Pass)),
            _harness.Actions.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(slot.Id, hold.Id, QaOutcome.Pass)));

        Assert.Single(results, r => r.Succeeded);
        Assert.Equal(FailureKind.Conflict, Assert.Single(results, r => !r.Succeeded).Failure!.Kind);
        Assert.Single(await _harness.AuditAsync(slot.Id), a => a.Action == AuditActions.QaDone);
    }

    [Fact]
    public async Task Claim_ReplayedTwiceInParallel_HoldsOnce()
    {
        var slot = await _harness.AddSlotAsync("qa-1");

        var results = await Task.WhenAll(
            _harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null)),
            _harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null)));

        Assert.All(results, r => Assert.True(r.Succeeded)); // the second click is told it already holds the slot
        Assert.Single(await _harness.HoldsAsync(slot.Id));
        Assert.Single(await _harness.AuditAsync(slot.Id), a => a.Action == AuditActions.Claim);
    }
}

public sealed class SqliteReplayTests() : ReplayTests(DatabaseProvider.Sqlite);

public sealed class PostgresReplayTests() : ReplayTests(DatabaseProvider.Postgres);

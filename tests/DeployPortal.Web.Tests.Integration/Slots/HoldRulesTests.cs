using DeployPortal.Web.Audit;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Slots;

public sealed class SqliteHoldRulesTests() : HoldRulesTests(DatabaseProvider.Sqlite);

public sealed class PostgresHoldRulesTests() : HoldRulesTests(DatabaseProvider.Postgres);

/// <summary>Every hold rule and role, through the real service and a real database of each kind.</summary>
public abstract class HoldRulesTests(DatabaseProvider provider) : IAsyncLifetime
{
    private SlotHarness _h = default!;

    public async Task InitializeAsync() => _h = await SlotHarness.CreateAsync(provider);

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Claim_FreeSlot_CreatesHoldWithDefaultLengthAndAuditEvent()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var published = new TaskCompletionSource<SlotChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = _h.Notifier.Subscribe(c => { published.TrySetResult(c); return Task.CompletedTask; });

        var result = await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "  payment test  ", null));

        Assert.True(result.Succeeded, result.Failure?.Message);
        var hold = Assert.Single(await _h.HoldsAsync(slot.Id));
        Assert.Equal(("dana", "Dana Developer", "payment test"), (hold.HolderId, hold.HolderName, hold.Purpose));
        Assert.Equal(TimeSpan.FromHours(4), hold.Until - hold.Since);
        Assert.Equal(DateTimeKind.Utc, hold.Since.Kind);
        Assert.Null(hold.ReleasedAt);
        var audit = Assert.Single(await _h.AuditAsync(slot.Id));
        Assert.Equal((AuditActions.Claim, "Dana Developer"), (audit.Action, audit.ActorName));
        Assert.Equal(slot.Id, (await published.Task.WaitAsync(TimeSpan.FromSeconds(10))).SlotId);
    }

    [Fact]
    public async Task Claim_AsViewer_IsForbidden_AndChangesNothing()
    {
        var slot = await _h.AddSlotAsync("qa-1");

        var result = await _h.Actions.ClaimAsync(TestUsers.Viewer, new ClaimRequest(slot.Id, "look around", null));

        Assert.Equal(FailureKind.Forbidden, result.Failure?.Kind);
        await AssertUnchangedAsync(slot.Id);
    }

    [Fact]
    public async Task Claim_Anonymous_IsForbidden()
    {
        var slot = await _h.AddSlotAsync("qa-1");

        var result = await _h.Actions.ClaimAsync(TestUsers.Anonymous, new ClaimRequest(slot.Id, "x", null));

        Assert.Equal(FailureKind.Forbidden, result.Failure?.Kind);
        await AssertUnchangedAsync(slot.Id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public async Task Claim_WithoutPurpose_IsInvalid_AndChangesNothing(string? purpose)
    {
        var slot = await _h.AddSlotAsync("qa-1");

        var result = await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, purpose!, null));

        Assert.Equal(FailureKind.Invalid, result.Failure?.Kind);
        Assert.Contains("what you need the slot for", result.Failure!.Message);
        await AssertUnchangedAsync(slot.Id);
    }

    [Fact]
    public async Task Claim_PurposeOf201Characters_IsInvalid_But200IsAccepted()
    {
        var slot = await _h.AddSlotAsync("qa-1");

        var tooLong = await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, new string('x', 201), null));
        Assert.Equal(FailureKind.Invalid, tooLong.Failure?.Kind);
        Assert.Contains("200", tooLong.Failure!.Message);
        await AssertUnchangedAsync(slot.Id);

        var exact = await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, new string('ü', 200), null));
        Assert.True(exact.Succeeded, exact.Failure?.Message);
        Assert.Equal(new string('ü', 200), Assert.Single(await _h.HoldsAsync(slot.Id)).Purpose);
    }

    [Fact]
    public async Task Claim_LongerThanMaximum_IsInvalid_AndChangesNothing()
    {
        var slot = await _h.AddSlotAsync("qa-1");

        var result = await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "soak test", TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1)));

        Assert.Equal(FailureKind.Invalid, result.Failure?.Kind);
        Assert.Contains("at most 1 d", result.Failure!.Message);
        await AssertUnchangedAsync(slot.Id);
    }

    [Fact]
    public async Task Claim_DisabledSlot_IsInvalid_AndChangesNothing()
    {
        var slot = await _h.AddSlotAsync("qa-1", enabled: false);

        var result = await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null));

        Assert.Equal(FailureKind.Invalid, result.Failure?.Kind);
        Assert.Contains("disabled", result.Failure!.Message);
        await AssertUnchangedAsync(slot.Id);
    }

    [Fact]
    public async Task Claim_UnknownSlot_IsNotFound()
    {
        var result = await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(987654, "payment test", null));

        Assert.Equal(FailureKind.NotFound, result.Failure?.Kind);
    }

    [Fact]
    public async Task Claim_WhenSlotHeld_IsRefused_NamingTheHolderAndPurpose()
    {
        var slot = await _h.AddSlotAsync("qa-2");
        await ClaimAsync(TestUsers.Dana, slot, "payment test");

        var result = await _h.Actions.ClaimAsync(TestUsers.Devon, new ClaimRequest(slot.Id, "login test", null));

        Assert.Equal(FailureKind.Conflict, result.Failure?.Kind);
        Assert.Equal("qa-2 was just taken by Dana Developer (payment test).", result.Failure!.Message);
        Assert.Single(await _h.HoldsAsync(slot.Id));
    }

    [Fact]
    public async Task Claim_TwiceBySameUser_IsHarmless_OneHold()
    {
        var slot = await _h.AddSlotAsync("qa-1");

        var results = await Task.WhenAll(
            _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null)),
            _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null)));

        Assert.All(results, r => Assert.True(r.Succeeded, r.Failure?.Message));
        var hold = Assert.Single(await _h.HoldsAsync(slot.Id));
        Assert.All(results, r => Assert.Equal(hold.Id, r.Value!.Id));
        Assert.Single(await _h.AuditAsync(slot.Id));
    }

    [Fact]
    public async Task Claim_AfterHoldEndedButBeforeExpiryJob_Succeeds_AndRecordsTheExpiry()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        await ClaimAsync(TestUsers.Dana, slot, "payment test", TimeSpan.FromHours(1));
        _h.Clock.Advance(TimeSpan.FromHours(1));

        var result = await _h.Actions.ClaimAsync(TestUsers.Devon, new ClaimRequest(slot.Id, "login test", null));

        Assert.True(result.Succeeded, result.Failure?.Message);
        var holds = await _h.HoldsAsync(slot.Id);
        Assert.Equal(2, holds.Count);
        Assert.Equal(ReleaseReason.Expired, holds[0].ReleaseReason);
        Assert.Null(holds[1].ReleasedAt);
        Assert.Equal([AuditActions.Claim, AuditActions.Expire, AuditActions.Claim], (await _h.AuditAsync(slot.Id)).Select(a => a.Action));
    }

    [Fact]
    public async Task Extend_OwnHold_WithinMaximum_MovesTheEnd()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test", TimeSpan.FromHours(4));

        var result = await _h.Actions.ExtendAsync(TestUsers.Dana, slot.Id, hold.Id, TimeSpan.FromHours(8));

        Assert.True(result.Succeeded, result.Failure?.Message);
        Assert.Equal(hold.Until + TimeSpan.FromHours(8), Assert.Single(await _h.HoldsAsync(slot.Id)).Until);
        Assert.Equal(AuditActions.Extend, (await _h.AuditAsync(slot.Id))[^1].Action);
    }

    [Fact]
    public async Task Extend_BeyondMaximum_IsInvalid_AndChangesNothing()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test", TimeSpan.FromHours(20));

        var result = await _h.Actions.ExtendAsync(TestUsers.Dana, slot.Id, hold.Id, TimeSpan.FromHours(5));

        Assert.Equal(FailureKind.Invalid, result.Failure?.Kind);
        Assert.Contains("4 h more is the most", result.Failure!.Message);
        Assert.Equal(hold.Until, Assert.Single(await _h.HoldsAsync(slot.Id)).Until);
    }

    [Fact]
    public async Task Extend_SomeoneElsesHold_IsForbidden_EvenForAdmin()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test");

        foreach (var user in new[] { TestUsers.Devon, TestUsers.Quinn, TestUsers.Ada })
        {
            var result = await _h.Actions.ExtendAsync(user, slot.Id, hold.Id, TimeSpan.FromHours(1));
            Assert.Equal(FailureKind.Forbidden, result.Failure?.Kind);
        }

        Assert.Equal(hold.Until, Assert.Single(await _h.HoldsAsync(slot.Id)).Until);
    }

    [Fact]
    public async Task Extend_ExpiredHold_IsInvalid_AndChangesNothing()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test", TimeSpan.FromHours(1));
        _h.Clock.Advance(TimeSpan.FromMinutes(61));

        var result = await _h.Actions.ExtendAsync(TestUsers.Dana, slot.Id, hold.Id, TimeSpan.FromHours(1));

        Assert.Equal(FailureKind.Invalid, result.Failure?.Kind);
        Assert.Contains("has ended", result.Failure!.Message);
        Assert.Equal(hold.Until, Assert.Single(await _h.HoldsAsync(slot.Id)).Until);
    }

    [Fact]
    public async Task Extend_AsViewer_IsForbidden()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test");

        var result = await _h.Actions.ExtendAsync(TestUsers.Viewer, slot.Id, hold.Id, TimeSpan.FromHours(1));

        Assert.Equal(FailureKind.Forbidden, result.Failure?.Kind);
    }

    [Fact]
    public async Task Release_OwnHold_FreesTheSlot()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test");

        var result = await _h.Actions.ReleaseAsync(TestUsers.Dana, new ReleaseRequest(slot.Id, hold.Id));

        Assert.Equal(ReleaseReason.Released, result.Value);
        var stored = Assert.Single(await _h.HoldsAsync(slot.Id));
        Assert.NotNull(stored.ReleasedAt);
        Assert.Equal("Dana Developer", stored.ReleasedByName);
        var card = (await _h.Board.GetBoardAsync()).Single(s => s.Id == slot.Id);
        Assert.True(card.IsFree);
        // Nothing was deployed under the hold, so there is nothing to tear down.
        Assert.False(card.Cleaning);
        Assert.DoesNotContain(_h.Jobs.Jobs, j => j.Type == typeof(Web.Deployments.SlotTeardownJob));
    }

    [Fact]
    public async Task Release_AfterADeploy_TearsDownWhatTheHoldDeployed()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test");
        await _h.AddDeploymentAsync(slot.Id, hold.Id);

        Assert.True((await _h.Actions.ReleaseAsync(TestUsers.Dana, new ReleaseRequest(slot.Id, hold.Id))).Succeeded);

        await AssertTearingDownAsync(slot, hold);
    }

    [Fact]
    public async Task DeployCommittedAfterTheRelease_StartsTheTeardownTheReleaseSkipped()
    {
        // A deploy read the hold as active, the release committed and found nothing deployed, then the deploy committed.
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test");
        await _h.Endings.TearDownIfReleasedAsync(hold.Id, CancellationToken.None);
        Assert.True((await _h.Actions.ReleaseAsync(TestUsers.Dana, new ReleaseRequest(slot.Id, hold.Id))).Succeeded);
        Assert.Empty(_h.Jobs.Jobs);
        await _h.AddDeploymentAsync(slot.Id, hold.Id);

        await _h.Endings.TearDownIfReleasedAsync(hold.Id, CancellationToken.None);

        await AssertTearingDownAsync(slot, hold);
    }

    /// <summary>What the hold deployed is removed by one teardown job; the board shows the slot cleaning until it ran.</summary>
    private async Task AssertTearingDownAsync(Slot slot, HoldView hold)
    {
        Assert.True((await _h.Board.GetBoardAsync()).Single(s => s.Id == slot.Id).Cleaning);
        var teardown = Assert.Single(_h.Jobs.Jobs, j => j.Type == typeof(Web.Deployments.SlotTeardownJob));
        Assert.Equal([slot.Id, hold.Id, CancellationToken.None], teardown.Args.Take(2).Append(CancellationToken.None));
    }

    [Fact]
    public async Task Release_SomeoneElsesHold_AsDeveloper_IsForbidden_AndChangesNothing()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test");

        var result = await _h.Actions.ReleaseAsync(TestUsers.Devon, new ReleaseRequest(slot.Id, hold.Id));
        var withOutcome = await _h.Actions.ReleaseAsync(TestUsers.Devon, new ReleaseRequest(slot.Id, hold.Id, QaOutcome.Pass));

        Assert.Equal(FailureKind.Forbidden, result.Failure?.Kind);
        Assert.Equal(FailureKind.Forbidden, withOutcome.Failure?.Kind);
        Assert.Null(Assert.Single(await _h.HoldsAsync(slot.Id)).ReleasedAt);
    }

    [Fact]
    public async Task Release_AsViewer_IsForbidden()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test");

        var result = await _h.Actions.ReleaseAsync(TestUsers.Viewer, new ReleaseRequest(slot.Id, hold.Id, QaOutcome.Pass));

        Assert.Equal(FailureKind.Forbidden, result.Failure?.Kind);
        Assert.Null(Assert.Single(await _h.HoldsAsync(slot.Id)).ReleasedAt);
    }

    [Fact]
    public async Task Release_SomeoneElsesHold_AsQaWithOutcome_RecordsQaDone()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test");

        var result = await _h.Actions.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(slot.Id, hold.Id, QaOutcome.Fail, " checkout breaks on Safari "));

        Assert.Equal(ReleaseReason.QaDone, result.Value);
        var stored = Assert.Single(await _h.HoldsAsync(slot.Id));
        Assert.Equal((QaOutcome.Fail, "checkout breaks on Safari", "Quinn QA"), (stored.QaOutcome, stored.ReleaseNote, stored.ReleasedByName));
        var audit = (await _h.AuditAsync(slot.Id))[^1];
        Assert.Equal(AuditActions.QaDone, audit.Action);
        Assert.Contains("QA fail", audit.Details);
    }

    [Fact]
    public async Task Release_SomeoneElsesHold_AsQaWithoutOutcome_AsksForTheOutcome()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test");

        var result = await _h.Actions.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(slot.Id, hold.Id));

        Assert.Equal(FailureKind.Invalid, result.Failure?.Kind);
        Assert.Contains("QA outcome", result.Failure!.Message);
        Assert.Null(Assert.Single(await _h.HoldsAsync(slot.Id)).ReleasedAt);
    }

    [Fact]
    public async Task Release_SomeoneElsesHold_AsAdminWithoutOutcome_IsForced()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test");

        var result = await _h.Actions.ReleaseAsync(TestUsers.Ada, new ReleaseRequest(slot.Id, hold.Id));

        Assert.Equal(ReleaseReason.Forced, result.Value);
        Assert.Equal(AuditActions.ForceRelease, (await _h.AuditAsync(slot.Id))[^1].Action);
    }

    [Fact]
    public async Task Release_WithStaleHoldId_NeverReleasesTheNewerHold()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var old = await ClaimAsync(TestUsers.Dana, slot, "payment test");
        await _h.Actions.ReleaseAsync(TestUsers.Dana, new ReleaseRequest(slot.Id, old.Id));
        await ClaimAsync(TestUsers.Devon, slot, "login test");

        var result = await _h.Actions.ReleaseAsync(TestUsers.Ada, new ReleaseRequest(slot.Id, old.Id));

        Assert.Equal(FailureKind.Conflict, result.Failure?.Kind);
        Assert.Contains("already released", result.Failure!.Message);
        Assert.Null((await _h.HoldsAsync(slot.Id))[^1].ReleasedAt);
    }

    [Fact]
    public async Task Release_TwiceInParallel_ReleasesOnce()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test");

        var results = await Task.WhenAll(
            _h.Actions.ReleaseAsync(TestUsers.Dana, new ReleaseRequest(slot.Id, hold.Id)),
            _h.Actions.ReleaseAsync(TestUsers.Dana, new ReleaseRequest(slot.Id, hold.Id)));

        Assert.Single(results, r => r.Succeeded);
        Assert.Single(results, r => r.Failure?.Kind == FailureKind.Conflict);
        Assert.Single(await _h.AuditAsync(slot.Id), a => a.Action == AuditActions.Release);
    }

    [Fact]
    public async Task Release_NoteOver1000Characters_IsInvalid_AndChangesNothing()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, "payment test");

        var result = await _h.Actions.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(slot.Id, hold.Id, QaOutcome.Pass, new string('n', 1001)));

        Assert.Equal(FailureKind.Invalid, result.Failure?.Kind);
        Assert.Null(Assert.Single(await _h.HoldsAsync(slot.Id)).ReleasedAt);
    }

    [Fact]
    public async Task ExpireDueHolds_ReleasesOnlyHoldsPastTheirEnd_AndRunningTwiceIsHarmless()
    {
        var shortSlot = await _h.AddSlotAsync("qa-1");
        var longSlot = await _h.AddSlotAsync("qa-2");
        await ClaimAsync(TestUsers.Dana, shortSlot, "quick check", TimeSpan.FromHours(1));
        await ClaimAsync(TestUsers.Devon, longSlot, "long soak", TimeSpan.FromHours(8));
        _h.Clock.Advance(TimeSpan.FromHours(2));

        var first = await Task.WhenAll(_h.Sweep.ExpireDueHoldsAsync(), _h.Sweep.ExpireDueHoldsAsync());
        var second = await _h.Sweep.ExpireDueHoldsAsync();

        Assert.Equal(1, first.Sum());
        Assert.Equal(0, second);
        Assert.Equal(ReleaseReason.Expired, Assert.Single(await _h.HoldsAsync(shortSlot.Id)).ReleaseReason);
        Assert.Null(Assert.Single(await _h.HoldsAsync(longSlot.Id)).ReleasedAt);
        Assert.Single(await _h.AuditAsync(shortSlot.Id), a => a.Action == AuditActions.Expire);
    }

    [Fact]
    public async Task AddSlot_AsAdmin_AddsIt_ButDuplicatesAndBadNamesAreRefused()
    {
        var added = await _h.Admin.AddSlotAsync(TestUsers.Ada, new SlotEdit("qa-9", "qa-9", "spare", ""));
        var duplicate = await _h.Admin.AddSlotAsync(TestUsers.Ada, new SlotEdit("qa-9", "other", "", ""));
        var badName = await _h.Admin.AddSlotAsync(TestUsers.Ada, new SlotEdit("QA 9; rm -rf /", "qa-9", "", ""));
        var badNamespace = await _h.Admin.AddSlotAsync(TestUsers.Ada, new SlotEdit("qa-10", "-leading-dash", "", ""));

        Assert.True(added.Succeeded, added.Failure?.Message);
        Assert.Equal(FailureKind.Conflict, duplicate.Failure?.Kind);
        Assert.Equal(FailureKind.Invalid, badName.Failure?.Kind);
        Assert.Equal(FailureKind.Invalid, badNamespace.Failure?.Kind);
        Assert.Single(await _h.Board.GetBoardAsync(), s => s.Name.StartsWith("qa-"));
    }

    [Fact]
    public async Task AddOrEditSlot_WithAnotherSlotsNamespace_IsRefused_SayingWhose_AndChangesNothing()
    {
        var qa1 = await _h.AddSlotAsync("qa-1");
        var qa2 = await _h.AddSlotAsync("qa-2");

        var added = await _h.Admin.AddSlotAsync(TestUsers.Ada, new SlotEdit("qa-1-copy", "qa-1", "", ""));
        var edited = await _h.Admin.EditSlotAsync(TestUsers.Ada, qa2.Id, new SlotEdit("qa-2", "qa-1", "", ""));
        var keepsOwn = await _h.Admin.EditSlotAsync(TestUsers.Ada, qa1.Id, new SlotEdit("qa-1", "qa-1", "edited", ""));

        const string Whose = "The namespace qa-1 belongs to qa-1: each slot needs a namespace of its own, or deploying into one would replace the other's apps and releasing it would delete them.";
        Assert.Equal((FailureKind.Conflict, Whose), (added.Failure?.Kind, added.Failure?.Message));
        Assert.Equal((FailureKind.Conflict, Whose), (edited.Failure?.Kind, edited.Failure?.Message));
        Assert.True(keepsOwn.Succeeded, keepsOwn.Failure?.Message);
        Assert.Equal([("qa-1", "qa-1"), ("qa-2", "qa-2")], (await _h.Board.GetBoardAsync()).Select(s => (s.Name, s.Namespace)).OrderBy(s => s.Name));
    }

    [Theory]
    [InlineData("kube-system", "kube-system is a namespace of Kubernetes itself")]
    [InlineData("kube-public", "kube-public is a namespace of Kubernetes itself")]
    [InlineData("default", "default is a namespace of Kubernetes itself")]
    [InlineData("deployportal", "deployportal is the portal's own namespace")]
    [InlineData("prod-shop", "The portal may not deploy into prod-shop: slot namespaces must be one of qa-*, staging (the setting Cluster:AllowedNamespaces).")]
    public async Task AddOrEditSlot_WithASystemThePortalsOrANamespaceOutsideTheAllowedSet_IsRefused_AndChangesNothing(string ns, string message)
    {
        _h.ClusterOptions.CurrentValue = new Web.Cluster.ClusterOptions { PortalNamespace = "deployportal", AllowedNamespaces = ["qa-*", "staging", "kube-*", "default", "deployportal"] };
        if (ns == "prod-shop")
        {
            _h.ClusterOptions.CurrentValue.AllowedNamespaces = ["qa-*", "staging"];
        }

        var qa1 = await _h.AddSlotAsync("qa-1");

        var added = await _h.Admin.AddSlotAsync(TestUsers.Ada, new SlotEdit("qa-9", ns, "", ""));
        var edited = await _h.Admin.EditSlotAsync(TestUsers.Ada, qa1.Id, new SlotEdit("qa-1", ns, "", ""));
        var allowed = await _h.Admin.AddSlotAsync(TestUsers.Ada, new SlotEdit("staging", "staging", "", ""));

        Assert.Equal(FailureKind.Invalid, added.Failure?.Kind);
        Assert.Contains(message, added.Failure!.Message);
        Assert.Equal(added.Failure, edited.Failure);
        Assert.True(allowed.Succeeded, allowed.Failure?.Message);
        Assert.Equal([("qa-1", "qa-1"), ("staging", "staging")], (await _h.Board.GetBoardAsync()).Select(s => (s.Name, s.Namespace)).OrderBy(s => s.Name));
    }

    [Theory]
    [InlineData("Developer")]
    [InlineData("QA")]
    [InlineData("Viewer")]
    public async Task SlotAdministration_AsNonAdmin_IsForbidden_AndChangesNothing(string role)
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var user = TestUsers.Make("someone", "Some One", role);

        var add = await _h.Admin.AddSlotAsync(user, new SlotEdit("qa-7", "qa-7", "", ""));
        var edit = await _h.Admin.EditSlotAsync(user, slot.Id, new SlotEdit("renamed", "renamed", "", ""));
        var disable = await _h.Admin.SetEnabledAsync(user, slot.Id, false);

        Assert.All(new[] { add.Failure, edit.Failure, disable.Failure }, f => Assert.Equal(FailureKind.Forbidden, f?.Kind));
        var card = Assert.Single(await _h.Board.GetBoardAsync());
        Assert.Equal(("qa-1", true), (card.Name, card.Enabled));
    }

    [Fact]
    public async Task Disable_AsAdmin_StopsNewClaims_AndIsAudited()
    {
        var slot = await _h.AddSlotAsync("qa-1");

        var disabled = await _h.Admin.SetEnabledAsync(TestUsers.Ada, slot.Id, false);
        var claim = await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null));

        Assert.False(disabled.Value!.Enabled);
        Assert.Equal(FailureKind.Invalid, claim.Failure?.Kind);
        Assert.Equal(AuditActions.SlotDisabled, (await _h.AuditAsync(slot.Id))[^1].Action);
    }

    private async Task<HoldView> ClaimAsync(System.Security.Claims.ClaimsPrincipal user, Slot slot, string purpose, TimeSpan? duration = null)
    {
        var result = await _h.Actions.ClaimAsync(user, new ClaimRequest(slot.Id, purpose, duration));
        Assert.True(result.Succeeded, result.Failure?.Message);
        return result.Value!;
    }

    private async Task AssertUnchangedAsync(int slotId)
    {
        Assert.Empty(await _h.HoldsAsync(slotId));
        Assert.Empty(await _h.AuditAsync(slotId));
    }
}

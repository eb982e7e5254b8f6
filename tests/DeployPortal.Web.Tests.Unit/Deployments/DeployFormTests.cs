using DeployPortal.Web.Components.Pages.Deployments;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Git;

namespace DeployPortal.Web.Tests.Deployments;

public sealed class DeployFormTests
{
    private static readonly SlotChoice Free1 = new(1, "qa-1", true, null, null, null, []);
    private static readonly SlotChoice Mine = new(2, "qa-2", true, "dev:dana", "Dana Developer", "checkout", ["storefront@main"]);
    private static readonly SlotChoice Theirs = new(3, "qa-3", true, "dev:devon", "Devon Developer", "payments", []);
    private static readonly SlotChoice Disabled = new(4, "qa-4", false, null, null, null, []);

    private static DeployForm Dana() => new("dev:dana", canAdminister: false, TimeSpan.FromHours(4));

    [Fact]
    public void Offers_FreeSlotsAndOnesOwn_NotOthersHoldsOrDisabledSlots()
    {
        var form = Dana();
        Assert.Equal([true, true, false, false], new[] { Free1, Mine, Theirs, Disabled }.Select(form.Selectable));
        var admin = new DeployForm("dev:ada", canAdminister: true, TimeSpan.FromHours(4));
        Assert.Equal([true, true, true, false], new[] { Free1, Mine, Theirs, Disabled }.Select(admin.Selectable));
    }

    [Fact]
    public void Starts_OnTheLinkedSlot_ElseOnesOwn_ElseTheFirstFree()
    {
        var form = Dana();
        form.Start([Free1, Mine, Theirs], "qa-1");
        Assert.Equal(1, form.SlotId);

        Assert.Null(form.LinkedSlotNote);

        form.Start([Theirs, Free1], null);
        Assert.Equal(1, form.SlotId);
        Assert.Null(form.LinkedSlotNote);
    }

    [Fact]
    public void ALinkToASlotThatIsNotTheirs_SaysSo_AndPicksNoOtherSlotInItsPlace()
    {
        var form = Dana();
        form.Start([Free1, Mine, Theirs], "qa-3"); // Devon's: deploying into Dana's own qa-2 instead would replace what runs there

        Assert.Equal("qa-3 is held by Devon Developer (payments): choose another slot, or wait in the queue for it.", form.LinkedSlotNote);
        Assert.Null(form.SlotId);
        Assert.Null(form.Summary);
        Assert.False(form.QueueMode);
        Assert.Equal(3, form.QueueSlotId); // "wait in the queue" waits for the linked slot

        form.Start([Free1, Mine, Disabled], "qa-4");
        Assert.Equal(("qa-4 is disabled: choose another slot.", (int?)null, (int?)null), (form.LinkedSlotNote, form.SlotId, form.QueueSlotId));

        form.Start([Free1, Mine], "qa-99");
        Assert.Equal(("There is no slot called \"qa-99\": choose one below.", (int?)null), (form.LinkedSlotNote, form.SlotId));
    }

    [Fact]
    public void WithNothingToDeployInto_OffersTheQueue_ForTheLinkedSlot()
    {
        var form = Dana();
        form.Start([Theirs, Disabled], "qa-3");

        Assert.True(form.QueueMode);
        Assert.Equal(3, form.QueueSlotId);
        Assert.Null(form.Summary); // no preflight while queueing
    }

    [Fact]
    public void FreeSlot_IsClaimedWithPurposeAndLength_OwnSlotIsNot()
    {
        var form = Dana();
        form.Start([Free1, Mine], "qa-1");
        form.ChooseApp("storefront");
        (form.Branch, form.Purpose, form.HoldFor) = ("main", "payment test", TimeSpan.FromHours(2));

        Assert.True(form.NeedsClaim);
        Assert.Equal(new DeployRequest("storefront", "main", 1, "payment test", TimeSpan.FromHours(2)), form.ToDeployRequest());

        form.SlotId = 2;
        Assert.False(form.NeedsClaim);
        Assert.Equal(new DeployRequest("storefront", "main", 2), form.ToDeployRequest());
    }

    [Fact]
    public void Branches_TheirOwnRecentFirst_AndATypoGetsTheLikelyOne()
    {
        var form = Dana();
        form.ChooseApp("storefront");
        form.LoadingBranchesStarted();
        Assert.Equal("3 branches; yours first", form.BranchesLoaded(
            [new RemoteBranch("main", "a"), new RemoteBranch("feature/login", "b"), new RemoteBranch("feature/cart", "c")], ["feature/cart"]));

        Assert.Equal(["feature/cart", "main", "feature/login"], form.SearchBranches(null));
        Assert.Equal(["feature/cart", "feature/login"], form.SearchBranches(" FEATURE "));
        form.Branch = "feature/logn";
        Assert.Contains("feature/login", form.BranchError);
        form.Branch = "feature/login";
        Assert.Null(form.BranchError);
    }

    [Fact]
    public void AnotherApp_DropsTheBranchTypedForTheLastOne()
    {
        var form = Dana();
        form.ChooseApp("storefront");
        form.Branch = "main";

        form.ChooseApp("payments");

        Assert.Null(form.Branch);
    }

    [Fact]
    public void ServedFromTheQueue_DeploysIntoTheSlotItWasGiven()
    {
        var form = Dana();
        form.Start([Theirs], null);
        Assert.True(form.QueueMode);

        form.Served([Theirs with { HolderId = "dev:dana", HolderName = "Dana Developer" }], "qa-3");

        Assert.False(form.QueueMode);
        Assert.Equal(3, form.SlotId);
    }

    [Fact]
    public void SlotList_SaysWhoHoldsEachAndWhatRuns()
    {
        var form = Dana();
        Assert.Equal("qa-2 — yours (checkout) · runs storefront@main", form.Describe(Mine));
        Assert.Equal("qa-3 — held by Devon Developer (payments)", form.Describe(Theirs));
        Assert.Equal("qa-4 — disabled", form.Describe(Disabled));
        Assert.Equal("qa-1 — free", form.Describe(Free1));
    }
}

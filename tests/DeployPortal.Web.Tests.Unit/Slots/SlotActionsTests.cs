using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Slots;

public sealed class SlotActionsTests
{
    private static readonly DateTime Now = new(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Warn = TimeSpan.FromMinutes(30);

    private static SlotCard Free => new(1, "qa-1", "qa-1", "", "", true, null);

    private static SlotCard HeldByDana(TimeSpan left) =>
        Free with { Hold = new HoldView(7, "dana", "Dana Developer", "payment test", Now.AddHours(-1), Now + left) };

    [Fact]
    public void FreeSlot_DeveloperMayClaim_ViewerMayNot()
    {
        Assert.True(SlotActions.For(TestUsers.Dana, Free, Now, Warn).CanClaim);
        var viewer = SlotActions.For(TestUsers.Viewer, Free, Now, Warn);
        Assert.Equal(SlotState.Free, viewer.State);
        Assert.False(viewer.CanClaim);
    }

    [Fact]
    public void OwnHold_HolderMayExtendAndRelease_ButNotForceRelease()
    {
        var a = SlotActions.For(TestUsers.Dana, HeldByDana(TimeSpan.FromHours(2)), Now, Warn);
        Assert.Equal((SlotState.Held, true, true, true, false, false), (a.State, a.IsMine, a.CanExtend, a.CanRelease, a.CanClaim, a.CanForceRelease));
    }

    [Fact]
    public void OthersHold_DeveloperSeesNoActions_QaMayRecordOutcome_AdminMayForce()
    {
        var slot = HeldByDana(TimeSpan.FromHours(2));
        var devon = SlotActions.For(TestUsers.Devon, slot, Now, Warn);
        Assert.False(devon.CanClaim || devon.CanExtend || devon.CanRelease || devon.CanQaRelease || devon.CanForceRelease);
        Assert.True(SlotActions.For(TestUsers.Quinn, slot, Now, Warn).CanQaRelease);
        Assert.False(SlotActions.For(TestUsers.Quinn, slot, Now, Warn).CanForceRelease);
        Assert.True(SlotActions.For(TestUsers.Ada, slot, Now, Warn).CanForceRelease);
    }

    [Fact]
    public void State_WarnsBeforeExpiry_AndOffersClaimOnceExpired()
    {
        Assert.Equal(SlotState.Expiring, SlotActions.For(TestUsers.Dana, HeldByDana(TimeSpan.FromMinutes(20)), Now, Warn).State);
        var expired = SlotActions.For(TestUsers.Devon, HeldByDana(TimeSpan.FromMinutes(-1)), Now, Warn);
        Assert.Equal(SlotState.Expired, expired.State);
        Assert.True(expired.CanClaim);
    }

    [Fact]
    public void DisabledSlot_CannotBeClaimed()
    {
        var a = SlotActions.For(TestUsers.Ada, Free with { Enabled = false }, Now, Warn);
        Assert.Equal(SlotState.Disabled, a.State);
        Assert.False(a.CanClaim);
        Assert.True(a.CanAdminister);
    }
}

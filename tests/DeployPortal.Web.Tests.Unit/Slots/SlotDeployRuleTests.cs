using DeployPortal.Web.Slots;

namespace DeployPortal.Web.Tests.Slots;

public sealed class SlotDeployRuleTests
{
    [Theory]
    [InlineData(true, null, false, DeployRefusal.None)]
    [InlineData(true, "dev:dana", false, DeployRefusal.None)]
    [InlineData(true, "dev:devon", false, DeployRefusal.HeldByOther)]
    [InlineData(true, "dev:devon", true, DeployRefusal.None)]
    [InlineData(false, null, true, DeployRefusal.Disabled)]
    [InlineData(false, "dev:dana", false, DeployRefusal.Disabled)]
    public void EnabledAndFree_OrOnesOwn_OrAnAdmin(bool enabled, string? holder, bool admin, DeployRefusal expected) =>
        Assert.Equal(expected, SlotDeployRule.Check(enabled, holder, "dev:dana", admin));

    [Fact]
    public void TheBoardsDeployButton_FollowsTheRule_AnExpiredHoldCountingAsFree()
    {
        var now = new DateTime(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc);
        var dana = new SlotRights("dev:dana", CanHold: true, CanReleaseAny: false, CanAdminister: false);
        var free = new SlotCard(1, "qa-1", "qa-1", "", "", Enabled: true, Hold: null);
        HoldView Hold(string holder, DateTime until) => new(1, holder, holder, "test", now.AddHours(-1), until);

        bool CanDeploy(SlotRights rights, SlotCard slot) => SlotActions.For(rights, slot, now, TimeSpan.FromMinutes(15)).CanDeploy;
        Assert.True(CanDeploy(dana, free));
        Assert.True(CanDeploy(dana, free with { Hold = Hold("dev:dana", now.AddHours(1)) }));
        Assert.False(CanDeploy(dana, free with { Hold = Hold("dev:devon", now.AddHours(1)) }));
        Assert.True(CanDeploy(dana, free with { Hold = Hold("dev:devon", now.AddMinutes(-1)) }));
        Assert.False(CanDeploy(dana, free with { Enabled = false }));
        Assert.False(CanDeploy(dana with { CanHold = false }, free));
    }
}

using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;

namespace DeployPortal.Web.Tests.Components;

/// <summary>The wording of a card's Use line for the edge cases the board test does not reach.</summary>
public sealed class HoldUseTextTests
{
    private static readonly DateTime Now = new(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc);

    private static HoldView Hold(TimeSpan idleFor, TimeSpan endsIn, ActivityKind kind = ActivityKind.Deploy) =>
        new(1, "dana", "Dana Developer", "payment test", Now.AddHours(-1), Now + endsIn) { LastActivityAt = Now - idleFor, LastActivityKind = kind };

    [Fact]
    public void HoldEndingBeforeTheQuestion_SaysIdleOnly_AndWhyInTheTooltip()
    {
        var text = HoldUseText.For(Hold(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(15)), TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(15), TimeZoneInfo.Utc, Now);

        Assert.Equal("idle 10 min", text!.Value.Short);
        Assert.Contains("The hold ends before Dana Developer would be asked", text.Value.Title);
    }

    [Fact]
    public void Idle_TooltipNamesTheLastUse_AndTheSoonerTimeWhenSomeoneWaits()
    {
        var text = HoldUseText.For(Hold(TimeSpan.FromMinutes(10), TimeSpan.FromHours(2)), TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(15), TimeZoneInfo.Utc, Now);

        Assert.Equal("idle 10 min · will be asked at 12:20", text!.Value.Short);
        Assert.Equal("Last sign of use: a deploy, 2026-12-04 11:50:00 (UTC). If the slot stays unused, Dana Developer is asked at 12:20 "
            + "(from 12:05 if someone is waiting) whether it is still needed, and without an answer it is given back.", text.Value.Title);
    }

    [Fact]
    public void Asleep_OrGivingBackOff_NoLine()
    {
        Assert.Null(HoldUseText.For(Hold(TimeSpan.FromMinutes(40), TimeSpan.FromHours(2)) with { SleepingSince = Now }, TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(15), null, Now));
        Assert.Null(HoldUseText.For(Hold(TimeSpan.FromMinutes(40), TimeSpan.FromHours(2)), null, TimeSpan.FromMinutes(15), null, Now));
    }
}

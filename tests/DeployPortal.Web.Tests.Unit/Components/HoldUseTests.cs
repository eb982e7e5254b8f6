using Bunit;
using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Components;

/// <summary>
/// Why a hold counts as in use or idle, on its card while the portal gives idle holds back: the last sign of use and
/// when the holder will be asked, then when the slot goes back. The clock starts at 09:00 UTC, the reader's zone.
/// </summary>
public sealed class HoldUseTests : PortalComponentTest
{
    private async Task<string?> UseLineAsync()
    {
        var cut = Render<Board>();
        cut.WaitForElement("[data-testid=slot-qa-1]");
        var text = cut.FindAll("[data-testid=slot-use]").SingleOrDefault()?.TextContent;
        await DisposeComponentsAsync();
        return text;
    }

    [Fact]
    public async Task Card_SaysWhatTheLastUseWas_WhenTheHolderWillBeAsked_AndWhenTheSlotGoesBack()
    {
        var slot = await Harness.AddSlotAsync("qa-1");
        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null));
        SignInAs(TestUsers.Devon); // anyone reading the board sees why, not only the holder
        Assert.Equal("in use: claimed less than a minute ago", await UseLineAsync());

        Harness.Clock.Advance(TimeSpan.FromMinutes(2));
        await Harness.Idle.OnAppTrafficAsync([slot.Id]); // 09:02
        Harness.Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal("in use: requests to its apps 3 min ago", await UseLineAsync());

        Harness.Clock.Advance(TimeSpan.FromMinutes(22));
        Assert.Equal("idle 25 min · will be asked at 09:32", await UseLineAsync());

        Harness.Clock.Advance(TimeSpan.FromMinutes(5));
        await Harness.GiveBack.RunAsync();
        Assert.Equal("idle 30 min · asked; given back at 09:47 unless used or kept", await UseLineAsync());
    }

    [Fact]
    public async Task Card_WithAppTrafficRead_UsesThoseTimes_AndWithoutGivingBackSaysNothing()
    {
        var idle = Harness.IdleOptions.CurrentValue;
        var slot = await Harness.AddSlotAsync("qa-1");
        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null));
        SignInAs(TestUsers.Dana);
        Harness.Clock.Advance(TimeSpan.FromMinutes(6));

        idle.AppTrafficRead = true;
        Assert.Equal($"idle 6 min · will be asked at {new DateTime(2026, 11, 26, 9, 0, 0) + idle.WithAppTraffic.ReleaseAfter:HH:mm}", await UseLineAsync());

        idle.ReleaseAfter = null;
        Assert.Null(await UseLineAsync());
    }
}

using DeployPortal.Web.Notifications;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>A person turns a kind of notification off on the profile page; it is stored and stays off.</summary>
[Collection(BrowserCollection.Name)]
public sealed class NotificationSettingsBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    [Fact]
    public async Task Profile_TurningOffFailedDeployments_IsStored_AndShownOffAfterReload()
    {
        var page = await Browser.SignInAsync(Portal, "dana");
        await page.GotoAsync("/profile");
        await BrowserFixture.WaitInteractiveAsync(page);
        var failed = page.GetByLabel("My deployment failed");
        await Expect(failed).ToBeCheckedAsync();

        await failed.ClickAsync();

        await Expect(failed).Not.ToBeCheckedAsync();
        await page.ReloadAsync();
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.GetByLabel("My deployment failed")).Not.ToBeCheckedAsync();
        await Expect(page.GetByLabel("My deployment succeeded")).ToBeCheckedAsync();
        await using var db = Database.Factory.CreateDbContext();
        var row = await db.NotificationOptOuts.SingleAsync();
        Assert.Equal(("dev:dana", PortalEventKind.DeployFailed), (row.UserId, row.Kind)); // the development sign-in's subject
    }
}

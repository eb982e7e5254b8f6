using DeployPortal.Web.Data;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>A person turns a kind of notification off on the profile page; it is stored and stays off.</summary>
[Collection(BrowserCollection.Name)]
public sealed class NotificationSettingsBrowserTests(BrowserFixture browser) : IAsyncLifetime
{
    private TestDatabase _database = default!;
    private PortalHost _host = default!;
    private Uri _portal = default!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        _host = new PortalHost(_database);
        _portal = _host.Start();
    }

    public async Task DisposeAsync()
    {
        await browser.CloseContextsAsync();
        await _host.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Profile_TurningOffFailedDeployments_IsStored_AndShownOffAfterReload()
    {
        var page = await browser.SignInAsync(_portal, "dana");
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
        await using var db = _database.Factory.CreateDbContext();
        var row = await db.NotificationOptOuts.SingleAsync();
        Assert.Equal(("dev:dana", PortalEventKind.DeployFailed), (row.UserId, row.Kind)); // the development sign-in's subject
    }
}

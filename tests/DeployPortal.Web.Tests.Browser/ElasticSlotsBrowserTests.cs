using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>
/// Elastic slots as people meet them, in the embedded default (demo apps, the in-process emulator): an admin raises the
/// budget on the Slots page; then Dana, finding every slot held, deploys into a new slot and the board shows it as elastic.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ElasticSlotsBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    protected override PortalHost CreateHost(TestDatabase database) => PortalHost.EmbeddedDefault(database, new Dictionary<string, string?>
    {
        ["Slots:Elastic:Enabled"] = "true",
        ["Slots:Elastic:MaxSlots"] = "0",
    });

    [Fact]
    public async Task AdminRaisesTheBudget_ThenADeveloperFindingAllHeld_DeploysIntoANewElasticSlot_ShownOnTheBoard()
    {
        await HoldEverySlotAsync();

        var ada = await Browser.SignInAsync(Portal, "ada");
        await ada.GotoAsync("/slots");
        await BrowserFixture.WaitInteractiveAsync(ada);
        await Expect(ada.Locator("[data-testid=elastic-used]")).ToHaveTextAsync("0 of 0 elastic slots in use");
        await Expect(ada.Locator("[data-testid=elastic-source]")).ToContainTextAsync("Budget 0, as configured");
        await ada.Locator("[data-testid=elastic-max]").FillAsync("1");
        await ada.Locator("[data-testid=elastic-save]").ClickAsync();
        await Expect(ada.Locator("[data-testid=elastic-saved]")).ToHaveTextAsync("Saved: at most 1 elastic slot.");
        await Expect(ada.Locator("[data-testid=elastic-used]")).ToHaveTextAsync("0 of 1 elastic slot in use");
        await Expect(ada.Locator("[data-testid=elastic-source]")).ToContainTextAsync("Budget 1 set by Ada Admin (configured: 0).");
        await ada.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "slots-elastic-budget.png"), FullPage = true });

        var dana = await Browser.SignInAsync(Portal, "dana");
        await dana.GotoAsync("/deploy");
        await BrowserFixture.WaitInteractiveAsync(dana);
        await Expect(dana.Locator("[data-testid=deploy-elastic]")).ToContainTextAsync("Every slot is held, so the portal makes you a new one");
        await dana.Locator("[data-testid=deploy-app]").ClickAsync();
        await dana.GetByRole(AriaRole.Option, new() { Name = "storefront — The shop's web front end (demo)" }).ClickAsync();
        await BrowserFixture.PickBranchAsync(dana, "main", "main");
        await dana.Locator("[data-testid=deploy-purpose]").FillAsync("checkout test");
        await Expect(dana.Locator("[data-testid=deploy-preflight]"))
            .ToHaveTextAsync("Deploys storefront@main into a new elastic slot; claims a new elastic slot for 4 h (checkout test).");
        await dana.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deploy-elastic.png"), FullPage = true });
        await dana.Locator("[data-testid=deploy-submit]").ClickAsync();

        await BrowserFixture.WaitForDeploymentPageAsync(dana, "deploy-elastic");
        await Expect(dana.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 30_000 });

        await dana.GotoAsync("/");
        await BrowserFixture.WaitInteractiveAsync(dana);
        var card = dana.Locator("[data-testid=slot-qa-e1]");
        await Expect(card.Locator("[data-testid=slot-elastic]")).ToHaveTextAsync("elastic");
        await Expect(card).ToHaveAttributeAsync("data-state", "Held");
        await Expect(card.Locator("[data-testid=slot-deployment-storefront]")).ToContainTextAsync("storefront@main");
        await dana.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "board-elastic.png"), FullPage = true });

        // The admin's open Slots page follows by itself: the budget is spent and the new slot is listed as elastic.
        await Expect(ada.Locator("[data-testid=elastic-used]")).ToHaveTextAsync("1 of 1 elastic slot in use");
        await Expect(ada.Locator("[data-testid=slots-elastic-qa-e1]")).ToHaveCountAsync(1);
        var phone = await Browser.SignInAsync(Portal, "ada", width: 390, height: 844);
        await phone.GotoAsync("/slots");
        await BrowserFixture.WaitInteractiveAsync(phone);
        await Expect(phone.Locator("[data-testid=slots-elastic-qa-e1]")).ToHaveCountAsync(1);
        await phone.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "slots-elastic-phone.png"), FullPage = true });

        await using var db = Database.Factory.CreateDbContext();
        Assert.Equal(1, await db.AuditEvents.CountAsync(a => a.Action == Web.Audit.AuditActions.ElasticBudget));
        Assert.True((await db.Slots.SingleAsync(s => s.Name == "qa-e1")).Elastic);
    }

    /// <summary>Quinn (QA) holds the four demo slots, so nothing is free.</summary>
    private async Task HoldEverySlotAsync()
    {
        var quinn = TestUsers.Make("dev:quinn", "Quinn QA", Web.Auth.PortalRoles.QA);
        using var scope = Host.Services.CreateScope();
        var holds = scope.ServiceProvider.GetRequiredService<HoldActions>();
        foreach (var slot in await scope.ServiceProvider.GetRequiredService<BoardQueries>().GetBoardAsync())
        {
            var claim = await holds.ClaimAsync(quinn, new ClaimRequest(slot.Id, "regression run", TimeSpan.FromHours(8)));
            Assert.True(claim.Succeeded, claim.Failure?.Message);
        }
    }
}

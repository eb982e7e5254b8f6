using Bunit;
using DeployPortal.Web.Components.Pages.History;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace DeployPortal.Web.Tests.Components;

public sealed class HistoryTests : PortalComponentTest
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Render<MudPopoverProvider>();
        var qa1 = await Harness.AddSlotAsync("qa-1");
        var qa2 = await Harness.AddSlotAsync("qa-2");
        var dana = await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(qa1.Id, "payment test", null));
        Harness.Clock.Advance(TimeSpan.FromMinutes(5));
        await Harness.Actions.ClaimAsync(TestUsers.Devon, new ClaimRequest(qa2.Id, "login test", null));
        Harness.Clock.Advance(TimeSpan.FromMinutes(5));
        await Harness.Actions.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(qa1.Id, dana.Value!.Id, QaOutcome.Pass));
        SignInAs(TestUsers.Viewer);
    }

    [Fact]
    public void History_ShowsEveryEvent_NewestFirst()
    {
        var cut = Render<History>();

        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=history] tbody tr").Count));
        var who = cut.FindAll("[data-testid=history] tbody tr td[data-label=Who]").Select(td => td.TextContent.Trim()).ToList();
        Assert.Equal(["Quinn QA", "Devon Developer", "Dana Developer"], who);
    }

    [Theory]
    [InlineData("/history?person=dana", new[] { "Dana Developer" })]
    [InlineData("/history?slot=qa-1", new[] { "Quinn QA", "Dana Developer" })]
    [InlineData("/history?slot=qa-2&person=quinn", new string[0])]
    public void History_FiltersFromTheAddress_SoAFilteredViewCanBeShared(string address, string[] expected)
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo(address);

        var cut = Render<History>();

        cut.WaitForAssertion(() =>
        {
            var who = cut.FindAll("[data-testid=history] tbody tr td[data-label=Who]").Select(td => td.TextContent.Trim()).ToList();
            Assert.Equal(expected, who);
        });
        if (expected.Length == 0)
        {
            Assert.Contains("Nothing matches these filters.", cut.Find("[data-testid=history-empty]").TextContent);
        }
    }

    [Fact]
    public async Task History_HidesSignInsByDefault_AndShowsThemWhenTheirKindIsTurnedOn()
    {
        await using (var db = Harness.Database.Factory.CreateDbContext())
        {
            db.AuditEvents.Add(new AuditEvent { At = Harness.Clock.GetUtcNow().UtcDateTime, ActorId = "dev:ada", ActorName = "Ada Admin", Action = Web.Audit.AuditActions.SignIn, Details = "development sign-in as Admin" });
            await db.SaveChangesAsync();
        }

        var cut = Render<History>();
        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=history] tbody tr").Count));
        Assert.Equal("false", cut.Find("[data-testid=history-kind-security]").GetAttribute("aria-pressed"));

        cut.Find("[data-testid=history-kind-security]").Click();

        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("[data-testid=history] tbody tr").Count));
        Assert.Contains("kinds=holds%2Cdeployments%2Cqueue%2Cslots%2Csecurity", Services.GetRequiredService<NavigationManager>().Uri, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("kinds=", cut.Find("[data-testid=history-export]").GetAttribute("href"));
    }

    [Fact]
    public void History_ShowsTheQaOutcomeAsItsOwnChip()
    {
        var cut = Render<History>();

        cut.WaitForAssertion(() => Assert.Equal("pass", cut.Find("[data-testid=history-outcome]").TextContent.Trim()));
    }

    [Theory]
    [InlineData("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"")]
    [InlineData("-1+2", "'-1+2")]
    [InlineData("payment, checkout", "\"payment, checkout\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    [InlineData("plain", "plain")]
    public void HistoryCsv_QuotesAndDefusesFreeText(string value, string cell) =>
        Assert.Equal(cell, Web.Audit.HistoryExport.Cell(value));

    [Theory]
    [InlineData(null, null)]
    [InlineData("all", "Holds,Deployments,Queue,Slots,Security")]
    [InlineData("security,holds", "Security,Holds")]
    [InlineData("7,holds,nonsense", "Holds")]
    [InlineData("none", "")]
    public void HistoryKinds_ParseOnlyTheirNames(string? value, string? expected) =>
        Assert.Equal(expected, Web.Audit.HistoryExport.ParseKinds(value) is { } kinds ? string.Join(",", kinds) : null);
}

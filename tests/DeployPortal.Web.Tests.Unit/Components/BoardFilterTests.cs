using Bunit;
using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace DeployPortal.Web.Tests.Components;

/// <summary>Issue 22: with 40 slots a board needs natural order, filters kept in the address and a quick search.</summary>
public sealed class BoardFilterTests : PortalComponentTest
{
    private NavigationManager Nav => Services.GetRequiredService<NavigationManager>();

    private async Task ThreeSlotsAsync()
    {
        foreach (var name in new[] { "qa-10", "qa-2", "qa-1" })
        {
            await Harness.AddSlotAsync(name);
        }

        var board = await Harness.Board.GetBoardAsync();
        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(board.Single(s => s.Name == "qa-2").Id, "payment test", TimeSpan.FromHours(2)));
        await Harness.Actions.ClaimAsync(TestUsers.Quinn, new ClaimRequest(board.Single(s => s.Name == "qa-10").Id, "regression", TimeSpan.FromHours(2)));
    }

    private static List<string> Shown(IRenderedComponent<Board> cut) =>
        [.. cut.FindAll("[data-testid=board] [data-testid^=slot-qa]").Select(c => c.GetAttribute("data-testid")!["slot-".Length..])];

    [Fact]
    public async Task Board_ListsSlotsInNaturalOrder()
    {
        await ThreeSlotsAsync();
        SignInAs(TestUsers.Dana);

        var cut = Render<Board>();

        cut.WaitForAssertion(() => Assert.Equal(["qa-1", "qa-2", "qa-10"], Shown(cut)));
    }

    [Theory]
    [InlineData("/?show=free", new[] { "qa-1" })]
    [InlineData("/?show=mine", new[] { "qa-2" })]
    [InlineData("/?show=held", new[] { "qa-2", "qa-10" })]
    [InlineData("/?q=quinn", new[] { "qa-10" })]
    [InlineData("/?q=PAYMENT", new[] { "qa-2" })]
    [InlineData("/?show=held&q=qa-1", new[] { "qa-10" })]
    [InlineData("/?show=nonsense", new[] { "qa-1", "qa-2", "qa-10" })]
    public async Task Board_FiltersFromTheAddress_SoAFilteredBoardCanBeShared(string address, string[] expected)
    {
        await ThreeSlotsAsync();
        SignInAs(TestUsers.Dana);
        Nav.NavigateTo(address);

        var cut = Render<Board>();

        cut.WaitForAssertion(() => Assert.Equal(expected, Shown(cut)));
        Assert.Empty(cut.FindAll("[data-testid=board-no-match]"));
    }

    [Fact]
    public async Task Board_WhenNothingMatches_SaysSo_AndClearingShowsEverySlot()
    {
        await ThreeSlotsAsync();
        SignInAs(TestUsers.Dana);
        Nav.NavigateTo("/?show=free&q=checkout");

        var cut = Render<Board>();

        var empty = cut.WaitForElement("[data-testid=board-no-match]");
        Assert.Contains("No slot matches “Free” and “checkout”", empty.TextContent);
        Assert.Empty(Shown(cut));
        var clear = cut.Find("[data-testid=board-clear-filters]").GetAttribute("href")!;
        Assert.DoesNotContain("show=", clear);
        Assert.DoesNotContain("q=", clear);

        Nav.NavigateTo(clear);

        cut.WaitForAssertion(() => Assert.Equal(["qa-1", "qa-2", "qa-10"], Shown(cut)));
        Assert.Empty(cut.FindAll("[data-testid=board-no-match]"));
    }

    [Fact]
    public async Task Board_TypingInTheSearch_PutsItInTheAddress_AndFilters()
    {
        await ThreeSlotsAsync();
        SignInAs(TestUsers.Dana);
        var cut = Render<Board>();
        cut.WaitForAssertion(() => Assert.Equal(3, Shown(cut).Count));

        cut.Find("[data-testid=board-search]").Input("regress");

        cut.WaitForAssertion(() => Assert.Equal(["qa-10"], Shown(cut)));
        Assert.Contains("q=regress", Nav.Uri);
        Assert.Equal("true", cut.Find("[data-testid=board-show-all]").GetAttribute("aria-current"));
        Assert.Contains("q=regress", cut.Find("[data-testid=board-show-free]").GetAttribute("href")); // a filter keeps the search
    }

    [Fact]
    public async Task Board_BeforeAnythingWasDeployed_OffersTheTryThisCard()
    {
        await ThreeSlotsAsync();
        SignInAs(TestUsers.Dana);

        var cut = Render<Board>();

        var card = cut.WaitForElement("[data-testid=board-first-run]");
        Assert.Contains("storefront@feature/login", card.TextContent);
        Assert.Contains("QA done", card.TextContent);
        Assert.Equal("/deploy?app=storefront&branch=feature%2Flogin", card.QuerySelector("a")!.GetAttribute("href"));
    }

    [Fact]
    public async Task Board_OnceSomethingWasDeployed_HasNoTryThisCard()
    {
        await ThreeSlotsAsync();
        await using (var db = Harness.Database.Factory.CreateDbContext())
        {
            var slot = db.Slots.Single(s => s.Name == "qa-2");
            var hold = db.Holds.Single(h => h.SlotId == slot.Id);
            db.Deployments.Add(new Web.Data.Deployment
            {
                SlotId = slot.Id,
                HoldId = hold.Id,
                App = "storefront",
                Branch = "main",
                RequestedById = "dev:dana",
                RequestedByName = "Dana Developer",
                State = Web.Data.DeploymentState.Succeeded,
                CreatedAt = Harness.Clock.GetUtcNow().UtcDateTime,
            });
            await db.SaveChangesAsync();
        }

        SignInAs(TestUsers.Dana);
        var cut = Render<Board>();

        cut.WaitForAssertion(() => Assert.Equal(["qa-1", "qa-2", "qa-10"], Shown(cut)));
        Assert.Empty(cut.FindAll("[data-testid=board-first-run]"));
    }

    [Theory]
    [InlineData(null, null, null, null, "/")]
    [InlineData("free", null, null, null, "/?show=free")]
    [InlineData("mine", null, null, null, "/?show=mine")]
    [InlineData("held", null, null, null, "/?show=held")]
    [InlineData("held", "feature/login", null, null, "/?show=held&q=feature%2Flogin")]
    [InlineData(null, "a&b=c", "catalog", "dev:devon", "/?q=a%26b%3Dc&app=catalog&holder=dev%3Adevon")]
    public void Href_IsTheBoardsAddressWithTheFilter_AndReadsBackAsTheSameFilter(string? show, string? query, string? app, string? holder, string expected)
    {
        var filter = BoardFilter.From(show, query, app, holder);

        Assert.Equal(expected, filter.Href());
        var back = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(new Uri("http://portal/"), expected).Query);
        string? Back(string key) => back.TryGetValue(key, out var value) ? value.ToString() : null;
        Assert.Equal(filter, BoardFilter.From(Back("show"), Back("q"), Back("app"), Back("holder")));
    }

    [Fact]
    public async Task FilterChoices_AreWorkedOutOncePerSnapshot_WhateverBoardsShowIt()
    {
        await ThreeSlotsAsync();
        var snapshot = await Harness.Board.GetBoardAsync();

        var choices = BoardFilter.ChoicesOn(snapshot);

        Assert.Same(choices, BoardFilter.ChoicesOn(snapshot));
        Assert.Equal(["Dana Developer", "Quinn QA"], choices.Holders.Select(h => h.Name));
        Assert.NotSame(choices, BoardFilter.ChoicesOn([.. snapshot])); // a new snapshot, worked out again
    }
}

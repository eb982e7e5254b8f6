using AngleSharp.Html.Parser;
using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Slots;
using static DeployPortal.Web.Tests.Components.BoardCardsData;

namespace DeployPortal.Web.Tests.Components;

public sealed class SlotCardMarkupTests
{
    private const string Hostile = "<script>alert(1)</script> & \"quotes\" 'apostrophes' <b>bold</b>";

    [Fact]
    public void HeldCard_ShowsHolderPurposeTimesAndDeployments_AsTheDataAttributesTestsAndScriptsUse()
    {
        var slot = Held("dev:devon");
        var card = Parse(SlotCardParts.ReadOnlyCard(slot, Actions(Viewer, slot), Context(), busy: false)!.Value.Value);

        var root = card.QuerySelector("[data-testid=slot-qa-2]")!;
        Assert.Equal("Held", root.GetAttribute("data-state"));
        Assert.Equal("Devon Developer", root.QuerySelector("[data-testid=slot-holder]")!.TextContent);
        Assert.Equal("payment test", root.QuerySelector("[data-testid=slot-purpose]")!.TextContent);
        Assert.Contains("expires in 2 h", root.QuerySelector("[data-testid=slot-until]")!.TextContent);
        Assert.Equal("Held", root.QuerySelector("[data-testid=slot-state]")!.TextContent);
        Assert.Equal("/slots/qa-2", root.QuerySelector("[data-testid=slot-link]")!.GetAttribute("href"));
        Assert.Equal("Succeeded", root.QuerySelector("[data-testid=slot-deployment-storefront] [data-testid=deployment-state]")!.TextContent);
        Assert.Contains("0123456", root.QuerySelector("[data-testid=slot-deployment-storefront]")!.TextContent);
    }

    [Fact]
    public void Card_UsesThePortalsOwnClasses_NeverMudBlazorsComponentClasses()
    {
        var slot = Held("dev:devon") with { Cleaning = true };
        var markup = SlotCardParts.ReadOnlyCard(slot, Actions(Viewer, slot), Context(), busy: false)!.Value.Value;
        var card = Parse(markup);

        Assert.DoesNotContain("mud-", markup);
        Assert.Equal(["portal-card", "portal-slot", "portal-slot-held"], card.QuerySelector("[data-testid=slot-qa-2]")!.ClassList);
        Assert.Equal(["portal-chip", "portal-chip-filled", "portal-color-info"], card.QuerySelector("[data-testid=slot-state]")!.ClassList);
        Assert.Equal(["portal-chip", "portal-chip-filled", "portal-color-success"], card.QuerySelector("[data-testid=deployment-state]")!.ClassList);
        Assert.Equal(["portal-chip", "portal-chip-outlined", "portal-color-default"], card.QuerySelector("[data-testid=slot-cleaning]")!.ClassList);
    }

    [Fact]
    public void HostileText_IsEncoded_InTextAndInAttributes()
    {
        var slot = Held("dev:devon", holder: Hostile, purpose: Hostile, name: "qa-\"><img src=x onerror=alert(1)>") with
        {
            Description = Hostile,
            Deployments = [new SlotDeploymentView(7, Hostile, Hostile, Hostile, Data.DeploymentState.Failed)],
        };
        var markup = SlotCardParts.ReadOnlyCard(slot, Actions(Viewer, slot), Context(), busy: false)!.Value.Value;
        var card = Parse(markup);

        Assert.DoesNotContain("<script", markup);
        Assert.DoesNotContain("<b>", markup);
        Assert.DoesNotContain("<img", markup);
        Assert.Empty(card.QuerySelectorAll("script, b, img"));
        var root = card.QuerySelector(".portal-card")!;
        Assert.Equal("slot-" + slot.Name, root.GetAttribute("data-testid")); // the attribute holds the name, not new markup
        Assert.Equal(Hostile, root.QuerySelector("[data-testid=slot-holder]")!.TextContent);
        Assert.Equal(Hostile, root.QuerySelector("[data-testid=slot-purpose]")!.TextContent);
        Assert.Contains(Hostile, root.QuerySelector(".portal-caption")!.TextContent);
        Assert.Equal($"{Hostile}@{Hostile}", root.QuerySelector("[data-testid=slot-deployments] a")!.TextContent);
        Assert.Equal("/slots/" + Uri.EscapeDataString(slot.Name), root.QuerySelector("[data-testid=slot-link]")!.GetAttribute("href"));
    }

    [Fact]
    public void FreeAndDisabledCards_SayWhy_AndShowNoHold()
    {
        var free = Parse(SlotCardParts.ReadOnlyCard(Free(), Actions(Viewer, Free()), Context(), busy: false)!.Value.Value);
        var disabledSlot = Free() with { Enabled = false };
        var disabled = Parse(SlotCardParts.ReadOnlyCard(disabledSlot, Actions(Viewer, disabledSlot), Context(), busy: false)!.Value.Value);

        Assert.Contains("Nobody is using this slot", free.Body!.TextContent);
        Assert.Empty(free.QuerySelectorAll(".portal-hold, [data-testid=slot-deployments]"));
        Assert.Contains("Disabled by an admin", disabled.Body!.TextContent);
        Assert.Equal("Disabled", disabled.QuerySelector(".portal-card")!.GetAttribute("data-state"));
    }

    [Fact]
    public void CardWithButtons_IsNotSharedMarkup()
    {
        var free = Free();
        Assert.Null(SlotCardParts.ReadOnlyCard(free, Actions(Developer, free), Context(), busy: false)); // Claim
        var theirs = Held("dev:devon");
        Assert.NotNull(SlotCardParts.ReadOnlyCard(theirs, Actions(Developer, theirs), Context(), busy: false));
        Assert.Null(SlotCardParts.ReadOnlyCard(theirs, Actions(Developer, theirs), Context(), busy: true)); // a spinner
    }

    [Fact]
    public void SameCardAndWording_IsBuiltOnce_AndSharedByEveryBoard()
    {
        var slot = Held("dev:devon");
        var first = SlotCardParts.ReadOnlyCard(slot, Actions(Viewer, slot), Context(), busy: false)!.Value.Value;
        var second = SlotCardParts.ReadOnlyCard(slot, Actions(Viewer, slot), Context(), busy: false)!.Value.Value;
        var later = SlotCardParts.ReadOnlyCard(slot, Actions(Viewer, slot), Context(Now.AddMinutes(10)), busy: false)!.Value.Value;

        Assert.Same(first, second);
        Assert.NotEqual(first, later); // "expires in 1 h 50 min"
    }

    [Fact]
    public void IdleHold_GetsAnIdleChip_WithWhenItWasLastUsed()
    {
        var slot = Held("dev:devon");
        var idle = slot with { Hold = slot.Hold! with { LastActivityAt = Now.AddHours(-3) } };
        var card = Parse(SlotCardParts.ReadOnlyCard(idle, Actions(Viewer, idle), Context(), busy: false)!.Value.Value);

        var chip = card.QuerySelector("[data-testid=slot-idle]")!;
        Assert.Equal("idle 3 h", chip.TextContent);
        Assert.Equal("No deploy or page view since 09:00 UTC", chip.GetAttribute("title"));
    }

    private static AngleSharp.Html.Dom.IHtmlDocument Parse(string html) => new HtmlParser().ParseDocument(html);
}

using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;

namespace DeployPortal.Web.Tests.Slots;

/// <summary>An open board skips the cards that did not change, so two reads of one slot must compare by what they show.</summary>
public sealed class SlotCardTests
{
    private static readonly DateTime Since = new(2026, 11, 26, 9, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void TwoReadsOfTheSameSlot_AreEqual_DeploymentsIncluded()
    {
        Assert.Equal(Card(DeploymentState.Running), Card(DeploymentState.Running));
        Assert.Equal(Card(DeploymentState.Running).GetHashCode(), Card(DeploymentState.Running).GetHashCode());
    }

    [Fact]
    public void ADifferenceAnywhereTheBoardShows_MakesThemDifferent()
    {
        var card = Card(DeploymentState.Running);

        Assert.NotEqual(card, Card(DeploymentState.Succeeded)); // a deployment's state
        Assert.NotEqual(card, card with { Deployments = [] });
        Assert.NotEqual(card, card with { Cleaning = true });
        Assert.NotEqual(card, card with { Hold = card.Hold! with { Until = Since.AddHours(3) } });
        Assert.NotEqual(card, card with { Hold = card.Hold! with { SleepingSince = Since } });
        Assert.NotEqual(card, card with { Description = "Another" });
    }

    private static SlotCard Card(DeploymentState state) =>
        new(1, "qa-1", "qa-1", "Shared test server 1", "https://{app}.qa-1.example.com", true,
            new HoldView(7, "dev:dana", "Dana Developer", "payment test", Since, Since.AddHours(2)) { LastActivityAt = Since })
        {
            Deployments = [new SlotDeploymentView(3, "storefront", "feature/login", "0123456789abcdef", state)],
        };
}

using Bunit;
using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Data;
using static DeployPortal.Web.Tests.Components.BoardCardsData;

namespace DeployPortal.Web.Tests.Components;

/// <summary>The holder's card: what it offers depends on what runs in the slot.</summary>
public sealed class SlotCardViewTests : PortalComponentTest
{
    [Theory]
    [InlineData(DeploymentState.Succeeded, true)]
    [InlineData(DeploymentState.Failed, true)]
    [InlineData(DeploymentState.WaitingForImage, false)]
    [InlineData(DeploymentState.Queued, false)]
    [InlineData(DeploymentState.Running, false)]
    public void Sleep_IsOffered_OnlyWhenNoDeploymentIsOnItsWay(DeploymentState state, bool offered)
    {
        var held = Held("dev:dana");
        var slot = held with { Deployments = [held.Deployments[0] with { State = state }] };

        var cut = Render<SlotCardView>(p => p
            .Add(c => c.Slot, slot)
            .Add(c => c.Actions, Actions(Developer, slot))
            .Add(c => c.Context, Context()));

        Assert.Equal(offered, cut.FindAll("[data-testid=sleep]").Count == 1);
        Assert.Single(cut.FindAll("[data-testid=release]")); // the holder's card either way
    }
}

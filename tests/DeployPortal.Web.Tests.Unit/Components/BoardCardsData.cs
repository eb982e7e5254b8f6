using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;

namespace DeployPortal.Web.Tests.Components;

/// <summary>Slot cards and a board context for the board's plain classes, without a database or a renderer.</summary>
internal static class BoardCardsData
{
    public static readonly DateTime Now = new(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc);

    public static SlotCardContext Context(DateTime? now = null, bool canWake = true) =>
        new(now ?? Now, TimeZoneInfo.Utc, TimeSpan.FromMinutes(15), TimeSpan.FromHours(2), AskAfter: null, AskWhenQueuedAfter: TimeSpan.Zero, AllowSleep: true, canWake,
            (_, _) => [TimeSpan.FromHours(1)], EventCallback<SlotCardRequest>.Empty);

    public static SlotCard Free(string name = "qa-1", int id = 1) => new(id, name, name + "-ns", "checkout team", "https://{app}." + name, Enabled: true, Hold: null);

    public static SlotCard Held(string holderId, string holder = "Devon Developer", string purpose = "payment test", string name = "qa-2", int id = 2) =>
        Free(name, id) with
        {
            Hold = new HoldView(10 + id, holderId, holder, purpose, Now.AddMinutes(-30), Now.AddHours(2)) { LastActivityAt = Now.AddMinutes(-5) },
            Deployments = [new SlotDeploymentView(7, "storefront", "feature/checkout", "0123456789abcdef", DeploymentState.Succeeded)],
        };

    public static SlotRights Viewer { get; } = new("dev:viewer", CanHold: false, CanReleaseAny: false, CanAdminister: false);

    public static SlotRights Developer { get; } = new("dev:dana", CanHold: true, CanReleaseAny: false, CanAdminister: false);

    public static SlotActions Actions(SlotRights rights, SlotCard slot, DateTime? now = null) => SlotActions.For(rights, slot, now ?? Now, TimeSpan.FromMinutes(15));
}

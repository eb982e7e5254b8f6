namespace DeployPortal.Web.Notifications;

/// <summary>What happened, for the people who asked to be told (webhooks, and later other channels).</summary>
public enum PortalEventKind
{
    DeploySucceeded,
    DeployFailed,
    HoldExpiring,
    HoldExpired,
    SlotReleased,
    WaitlistTurn,
}

/// <summary>
/// One notification-worthy event. <paramref name="UserId"/> is the person it is about (the holder, the
/// requester, the person whose turn it is), so their opt-out can be honoured; <paramref name="Link"/> is a
/// path inside the portal (e.g. <c>/deployments/42</c>).
/// </summary>
public sealed record PortalEvent(PortalEventKind Kind, string Slot, string? UserId, string? UserName, string Text, string? Link = null);

/// <summary>
/// The one place features raise notification events. Raising never blocks or fails the action that raised
/// it: call it after the action's transaction has committed.
/// </summary>
public sealed class PortalEvents(ILogger<PortalEvents> logger)
{
    public void Raise(PortalEvent e) => logger.LogDebug("Portal event {Kind} on {Slot}: {Text}", e.Kind, e.Slot, e.Text);
}

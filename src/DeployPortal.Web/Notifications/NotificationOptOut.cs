namespace DeployPortal.Web.Notifications;

/// <summary>
/// A person asked not to be announced for one kind of event. A row means "opted out"; no row is the default
/// (notify). Keyed by user id and kind, so setting it twice is one row.
/// </summary>
public sealed class NotificationOptOut
{
    public required string UserId { get; set; }
    public PortalEventKind Kind { get; set; }
    public DateTime At { get; set; }
}

using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;

namespace DeployPortal.Web.Audit;

/// <summary>
/// The one way an audit event is made, by every feature: who, what, which slot (if any), when, and the details,
/// each clipped to the column it is stored in, so a long branch name, note or claim value can never make the
/// action it records fail. The schema takes its lengths from here.
/// </summary>
public static class AuditWriter
{
    public const int ActorMaxLength = 200;
    public const int ActionMaxLength = 40;
    public const int SlotNameMaxLength = 63;
    public const int DetailsMaxLength = 2000;

    /// <summary>Adds the event to <paramref name="db"/>; it is written with the caller's next save.</summary>
    public static AuditEvent Write(PortalDb db, Actor actor, string action, Slot? slot, string details, DateTime at)
    {
        var audit = Event(actor, action, slot, details, at);
        db.AuditEvents.Add(audit);
        return audit;
    }

    /// <summary>
    /// The event, not yet added anywhere. A slot not saved yet (id 0) is named but not linked.
    /// </summary>
    public static AuditEvent Event(Actor actor, string action, Slot? slot, string details, DateTime at) => new()
    {
        At = at,
        ActorId = Clip(actor.Id, ActorMaxLength),
        ActorName = Clip(actor.Name, ActorMaxLength),
        Action = Clip(action, ActionMaxLength),
        SlotId = slot is null || slot.Id == 0 ? null : slot.Id,
        SlotName = slot is null ? null : Clip(slot.Name, SlotNameMaxLength),
        Details = Clip(details, DetailsMaxLength),
    };

    private static string Clip(string value, int max) => value.Length > max ? value[..max] : value;
}

using DeployPortal.Web.Data;

namespace DeployPortal.Web.Waitlist;

/// <summary>
/// Join the queue: deploy <paramref name="App"/>@<paramref name="Branch"/> into <paramref name="SlotId"/> (null: any slot) when it frees,
/// holding it for <paramref name="HoldFor"/> (null: the default hold length).
/// </summary>
internal sealed record JoinQueueRequest(string App, string Branch, string Purpose, int? SlotId, TimeSpan? HoldFor = null);

/// <summary>
/// One entry as people see it. <paramref name="Position"/> counts the waiting entries ahead that compete for the
/// same slots, plus one; <paramref name="ExpectedWait"/> is null when no enabled slot fits the request.
/// When served, <paramref name="ServedSlotName"/> and <paramref name="DeploymentId"/> say where it went.
/// </summary>
public sealed record QueueEntryView(
    long Id,
    WaitlistState State,
    int Position,
    string UserId,
    string UserName,
    string App,
    string Branch,
    string Purpose,
    int? SlotId,
    string? SlotName,
    DateTime JoinedAt,
    TimeSpan? ExpectedWait,
    DateTime? EndedAt = null,
    string? ServedSlotName = null,
    long? DeploymentId = null,
    DeploymentState? DeploymentState = null,
    TimeSpan? HoldFor = null)
{
    public string Target => SlotName ?? "any slot";
}

/// <summary>The queue: waiting entries in order, and the typical hold length the estimates are based on.</summary>
internal sealed record QueueView(IReadOnlyList<QueueEntryView> Waiting, TimeSpan TypicalHold, int HoldsSampled);

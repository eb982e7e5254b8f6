using DeployPortal.Web.Data;

namespace DeployPortal.Web.Slots;

/// <summary>One slot as the board shows it.</summary>
public sealed record SlotCard(
    int Id,
    string Name,
    string Namespace,
    string Description,
    string UrlPattern,
    bool Enabled,
    HoldView? Hold)
{
    public bool IsFree => Enabled && Hold is null;
}

public sealed record HoldView(long Id, string HolderId, string HolderName, string Purpose, DateTime Since, DateTime Until);

public sealed record ClaimRequest(int SlotId, string Purpose, TimeSpan? Duration);

public sealed record ReleaseRequest(int SlotId, long HoldId, QaOutcome? Outcome = null, string? Note = null);

public sealed record SlotEdit(string Name, string Namespace, string Description, string UrlPattern);

/// <summary>What just changed, so open pages can refresh.</summary>
public sealed record SlotChange(int SlotId, string What);

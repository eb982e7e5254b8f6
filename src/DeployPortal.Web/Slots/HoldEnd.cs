using DeployPortal.Web.Data;

namespace DeployPortal.Web.Slots;

/// <summary>
/// How one hold ended, told to its holder: who released which slot, QA's outcome and note. The deployment page and
/// My work say it in the same words.
/// </summary>
internal sealed record HoldEnd(
    long HoldId,
    int SlotId,
    string SlotName,
    string HolderId,
    string Purpose,
    DateTime ReleasedAt,
    string? ReleasedById,
    string? ReleasedByName,
    ReleaseReason Reason,
    QaOutcome? Outcome,
    string? Note)
{
    /// <summary>"Quinn QA released qa-2: fail — checkout button missing", "The hold on qa-2 expired" …</summary>
    public string Sentence
    {
        get
        {
            var note = string.IsNullOrWhiteSpace(Note) ? "" : Note.Trim();
            var by = ReleasedByName ?? "Someone";
            return Reason switch
            {
                ReleaseReason.QaDone => $"{by} released {SlotName}: {OutcomeWord}{(note.Length > 0 ? " — " + note : "")}",
                ReleaseReason.Expired => $"The hold on {SlotName} expired",
                ReleaseReason.Forced => $"{by} took {SlotName} back{(note.Length > 0 ? ": " + note : "")}",
                _ => $"{by} released {SlotName}{(note.Length > 0 ? ": " + note : "")}",
            };
        }
    }

    /// <summary>"pass", "fail", or "" when nobody judged the work (a plain release, an expiry).</summary>
    public string OutcomeWord => Outcome switch
    {
        QaOutcome.Pass => "pass",
        QaOutcome.Fail => "fail",
        _ => "",
    };

    /// <summary>Someone other than the holder ended it, or QA judged it: news for the holder.</summary>
    public bool IsNewsForHolder => Outcome is not null || ReleasedById != HolderId;

    public static HoldEnd? Of(Hold h, string slotName) => h.ReleasedAt is not { } at
        ? null
        : new(h.Id, h.SlotId, slotName, h.HolderId, h.Purpose, at, h.ReleasedById, h.ReleasedByName, h.ReleaseReason ?? ReleaseReason.Released, h.QaOutcome, h.ReleaseNote);
}

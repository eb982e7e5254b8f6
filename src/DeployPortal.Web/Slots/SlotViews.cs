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

    /// <summary>The portal is removing what the last hold deployed here.</summary>
    public bool Cleaning { get; init; }

    /// <summary>Made on demand from the elastic pool; removed after standing free a while.</summary>
    public bool Elastic { get; init; }

    /// <summary>What runs here under the current hold: the latest deployment of each app.</summary>
    public IReadOnlyList<SlotDeploymentView> Deployments { get; init; } = [];

    /// <summary>Something was deployed and nothing is on its way: the apps may be put to sleep.</summary>
    public bool HasSettledDeployments => Deployments.Count > 0 && !Deployments.Any(d => d.OnItsWay);

    /// <summary>QA's verdict on the last hold, while the slot stays free after QA released it; null otherwise.</summary>
    public SlotVerdictView? LastVerdict { get; init; }

    /// <summary>Where an admin put the slot on the board (lower first); null for natural order after the ordered ones.</summary>
    public int? Position { get; init; }

    /// <summary>
    /// Equal when everything the board shows is equal, deployments included (a record compares lists by
    /// reference). <see cref="BoardSnapshot"/> keeps the instance of a card that did not change, so an open board
    /// mostly compares a card with itself.
    /// </summary>
    public bool Equals(SlotCard? other) =>
        ReferenceEquals(this, other)
        || other is not null
        && Id == other.Id && Name == other.Name && Namespace == other.Namespace && Description == other.Description
        && UrlPattern == other.UrlPattern && Enabled == other.Enabled && Equals(Hold, other.Hold) && Cleaning == other.Cleaning && Elastic == other.Elastic
        && Equals(LastVerdict, other.LastVerdict) && Position == other.Position && Deployments.SequenceEqual(other.Deployments);

    public override int GetHashCode() => HashCode.Combine(Id, Name, Hold, Cleaning, Deployments.Count);

    /// <summary>The card of <paramref name="s"/> with its active hold, if any (deployments are the caller's to add).</summary>
    public static SlotCard Of(Slot s, Hold? hold) =>
        new(s.Id, s.Name, s.Namespace, s.Description, s.UrlPattern, s.Enabled, hold is null ? null : HoldView.Of(hold)) { Cleaning = s.CleaningSince is not null, Elastic = s.Elastic, Position = s.Position };
}

/// <summary>QA's verdict on a released hold: pass or fail, the note, who gave it and when.</summary>
public sealed record SlotVerdictView(QaOutcome Outcome, string? Note, string ByName, DateTime At, string HolderName)
{
    public bool Passed => Outcome == QaOutcome.Pass;

    public static SlotVerdictView? Of(Hold h) =>
        h is { ReleaseReason: ReleaseReason.QaDone, QaOutcome: { } outcome, ReleasedAt: { } at }
            ? new SlotVerdictView(outcome, string.IsNullOrWhiteSpace(h.ReleaseNote) ? null : h.ReleaseNote.Trim(), h.ReleasedByName ?? "QA", at, h.HolderName)
            : null;
}

/// <param name="ImageDigest">The digest that runs, when a registry resolved one.</param>
public sealed record SlotDeploymentView(long Id, string App, string Branch, string? Commit, DeploymentState State, string? ImageDigest = null)
{
    public string ShortCommit => Commit is { Length: >= 7 } c ? c[..7] : Commit ?? "";

    public string ShortDigest => ImageDigest is null ? "" : Registry.ImageLookup.Short(ImageDigest);

    /// <summary>While it waits for its image: the awaited tag, the last look and when it gives up.</summary>
    public string? Image { get; init; }

    public DateTime? ImageCheckedAt { get; init; }

    public DateTime? ImageWaitUntil { get; init; }

    public bool WaitsForImage => State == DeploymentState.WaitingForImage;

    /// <summary>Queued, running or waiting for its image: the slot should not be put to sleep under it.</summary>
    public bool OnItsWay => IdleSlots.OnItsWay(State);
}

public sealed record HoldView(long Id, string HolderId, string HolderName, string Purpose, DateTime Since, DateTime Until)
{
    public static HoldView Of(Hold h) =>
        new(h.Id, h.HolderId, h.HolderName, h.Purpose, h.Since, h.Until) { LastActivityAt = h.LastActivityAt, LastActivityKind = h.LastActivityKind, SleepingSince = h.SleepingSince, KeepDeadline = h.KeepDeadline, KeepWaiterName = h.KeepWaiterName };

    /// <summary>See <see cref="Hold.LastActivityAt"/>.</summary>
    public DateTime LastActivityAt { get; init; }

    /// <summary>See <see cref="Hold.LastActivityKind"/>.</summary>
    public ActivityKind LastActivityKind { get; init; }

    /// <summary>See <see cref="Hold.SleepingSince"/>.</summary>
    public DateTime? SleepingSince { get; init; }

    /// <summary>See <see cref="Hold.KeepDeadline"/>: set while the holder is asked whether they still need the idle slot.</summary>
    public DateTime? KeepDeadline { get; init; }

    /// <summary>See <see cref="Hold.KeepWaiterName"/>.</summary>
    public string? KeepWaiterName { get; init; }

    /// <summary>
    /// True on the answer to a claim of a slot the caller already held (a retry, or a second pipeline with the same
    /// token): nothing was created. Only written when true.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool AlreadyYours { get; init; }

    public bool IsIdle(DateTime now, TimeSpan idleAfter) => now - LastActivityAt >= idleAfter;
}

internal sealed record ClaimRequest(int SlotId, string Purpose, TimeSpan? Duration);

internal sealed record ReleaseRequest(int SlotId, long HoldId, QaOutcome? Outcome = null, string? Note = null);

/// <param name="Position">Where the slot goes on the board (1 first); null for natural order after the ordered slots.</param>
public sealed record SlotEdit(string Name, string Namespace, string Description, string UrlPattern, int? Position = null);

/// <summary>What just changed, so open pages can refresh.</summary>
public sealed record SlotChange(int SlotId, string What, long? DeploymentId = null)
{
    /// <summary>
    /// Anything may have changed (changes from other portal replicas may have been missed while this one was
    /// not listening): every page reloads what it shows, whatever slot it is about.
    /// </summary>
    public static SlotChange Resync { get; } = new(0, "resync");

    public bool IsResync => this == Resync;

    /// <summary>
    /// The live feed is down (the listening connection to PostgreSQL was lost): pages keep what they show and say since
    /// when, until <see cref="Resync"/>.
    /// </summary>
    public static SlotChange Paused { get; } = new(0, "paused");

    public bool IsPaused => this == Paused;
}

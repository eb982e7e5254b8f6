using DeployPortal.Web.Data;

namespace DeployPortal.Web.Insights;

/// <summary>The periods the insights page offers; the query value (<c>?period=7d</c>) makes a view shareable.</summary>
public enum InsightsPeriod
{
    Day,
    Week,
    Month,
    Quarter,
}

public static class InsightsPeriods
{
    public static IReadOnlyList<InsightsPeriod> All { get; } = Enum.GetValues<InsightsPeriod>();

    public static InsightsPeriod Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "24h" or "day" => InsightsPeriod.Day,
        "30d" or "month" => InsightsPeriod.Month,
        "90d" or "quarter" => InsightsPeriod.Quarter,
        _ => InsightsPeriod.Week,
    };

    public static string Query(this InsightsPeriod period) => period switch
    {
        InsightsPeriod.Day => "24h",
        InsightsPeriod.Month => "30d",
        InsightsPeriod.Quarter => "90d",
        _ => "7d",
    };

    public static string Label(this InsightsPeriod period) => period switch
    {
        InsightsPeriod.Day => "Last 24 hours",
        InsightsPeriod.Month => "Last 30 days",
        InsightsPeriod.Quarter => "Last 90 days",
        _ => "Last 7 days",
    };

    /// <summary>How many buckets and how wide: hours for a day, days for a week or month, weeks for a quarter.</summary>
    internal static (int Count, TimeSpan Width) Buckets(this InsightsPeriod period) => period switch
    {
        InsightsPeriod.Day => (24, TimeSpan.FromHours(1)),
        InsightsPeriod.Month => (30, TimeSpan.FromDays(1)),
        InsightsPeriod.Quarter => (13, TimeSpan.FromDays(7)),
        _ => (7, TimeSpan.FromDays(1)),
    };
}

/// <summary>
/// Everything the insights page shows for one period. Series are aligned with <see cref="Buckets"/>; times
/// are UTC, bucket boundaries fall on the reader's local hours, days or weeks (Mondays).
/// </summary>
internal sealed record InsightsReport(
    InsightsPeriod Period,
    DateTime From,
    DateTime To,
    IReadOnlyList<InsightsBucket> Buckets,
    IReadOnlyList<SlotUtilisation> Slots,
    TimeSpan AllSlotsBusy,
    HoldOutcomes Holds,
    DeploymentStats Deployments,
    WaitStats? Waits)
{
    /// <summary>Nothing was held or deployed in the period: the page shows its empty state instead of flat charts.</summary>
    public bool IsEmpty => Slots.All(s => s.Held == TimeSpan.Zero) && Holds.Total == 0 && Deployments.Finished == 0;
}

/// <summary>One bucket: its start (UTC) and its label in the reader's zone.</summary>
internal sealed record InsightsBucket(DateTime Start, DateTime End, string Label);

/// <summary>Share of each bucket (0–1) that the slot was held, and the total held time in the period.</summary>
internal sealed record SlotUtilisation(int SlotId, string Slot, IReadOnlyList<double> HeldShare, TimeSpan Held, double Share);

/// <summary>Holds that ended in the period, by how; per bucket for the chart.</summary>
internal sealed record HoldOutcomes(
    int Released,
    int QaDone,
    int Forced,
    int Expired,
    int QaPass,
    int QaFail,
    IReadOnlyList<int> ReleasedPerBucket,
    IReadOnlyList<int> QaDonePerBucket,
    IReadOnlyList<int> ForcedPerBucket,
    IReadOnlyList<int> ExpiredPerBucket,
    TimeSpan? MedianHold)
{
    public int Total => Released + QaDone + Forced + Expired;

    /// <summary>Share of ended holds that nobody gave back: the forgotten ones.</summary>
    public double? ExpiredShare => Total == 0 ? null : (double)Expired / Total;
}

/// <summary>
/// Deployments that finished in the period. Success rate counts succeeded against failed; cancelled ones are
/// a person's choice, not an outcome of the deploy, and are left out of it.
/// </summary>
internal sealed record DeploymentStats(
    int Succeeded,
    int Failed,
    int Cancelled,
    TimeSpan? MedianDuration,
    TimeSpan? P90Duration,
    TimeSpan? MedianQueued,
    IReadOnlyList<int> SucceededPerBucket,
    IReadOnlyList<int> FailedPerBucket,
    IReadOnlyList<DurationRange> Durations)
{
    public int Finished => Succeeded + Failed + Cancelled;

    public double? SuccessRate => Succeeded + Failed == 0 ? null : (double)Succeeded / (Succeeded + Failed);
}

/// <summary>How many deployments took between <see cref="Min"/> and <see cref="Max"/> (start to finish).</summary>
internal sealed record DurationRange(string Label, TimeSpan Min, TimeSpan? Max, int Succeeded, int Failed);

/// <summary>Waiting in the queue for a slot (from the waitlist). Null until the waitlist records waits.</summary>
internal sealed record WaitStats(int Served, TimeSpan? Median, TimeSpan? P90, IReadOnlyList<double> MedianMinutesPerBucket);

/// <summary>One hold of a slot, newest first in <see cref="InsightsService.GetSlotHistoryAsync"/>.</summary>
internal sealed record SlotHoldHistoryRow(
    long HoldId,
    string HolderId,
    string HolderName,
    string Purpose,
    DateTime Since,
    DateTime Until,
    DateTime? ReleasedAt,
    ReleaseReason? ReleaseReason,
    string? ReleasedByName,
    QaOutcome? QaOutcome,
    string? ReleaseNote,
    IReadOnlyList<HoldDeploymentRow> Deployments)
{
    /// <summary>The branches deployed during the hold, in the order first deployed.</summary>
    public IReadOnlyList<string> Branches => [.. Deployments.OrderBy(d => d.Id).Select(d => $"{d.App}@{d.Branch}").Distinct()];
}

internal sealed record HoldDeploymentRow(long Id, string App, string Branch, string? Commit, DeploymentState State, DateTime CreatedAt, DateTime? FinishedAt);

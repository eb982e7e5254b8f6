using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>Bound from <c>Holds</c>: how long a slot may be held.</summary>
internal sealed class HoldOptions
{
    public const string Section = "Holds";

    /// <summary>Length of a new hold when the claimant does not choose one.</summary>
    public TimeSpan DefaultDuration { get; set; } = TimeSpan.FromHours(4);

    /// <summary>Shortest hold a claim may ask for: a 1-second hold is a typo, and gone before anyone could test.</summary>
    public TimeSpan MinDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Longest a hold may run from now: a claim or an extension can never set its end further away than
    /// this. Extending again later is allowed, so an active tester keeps the slot and a forgotten one loses it.
    /// </summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The board warns when less than this is left.</summary>
    public TimeSpan WarnBefore { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// The holder is reminded this long before their hold ends: a prominent notice with one-click extend on the
    /// board, and one <c>HoldExpiring</c> notification per end time, sent by the minutely expiry job.
    /// </summary>
    public TimeSpan RemindBefore { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// A deploy into a held slot shows the slot is in use: the hold is renewed to end no sooner than
    /// <see cref="DefaultDuration"/> from the deploy (never shortened, never past <see cref="HardMaxTotal"/>).
    /// </summary>
    public bool RenewOnDeploy { get; set; } = true;

    /// <summary>
    /// The longest a hold may last in total, counted from the claim. Neither extending nor renewing can move its
    /// end past this, so a slot cannot be pinned forever by extending it a day at a time.
    /// </summary>
    public TimeSpan HardMaxTotal { get; set; } = TimeSpan.FromDays(3);

    /// <summary>
    /// Fair use: the most slots one person may hold at once (a claim or a deploy into a free slot beyond it is refused,
    /// offering the slot they hold). Null: no cap. Admins are exempt.
    /// </summary>
    public int? MaxHeldPerPerson { get; set; }

    /// <summary>Caps for people with a given role (e.g. <c>QA: 3</c>), instead of <see cref="MaxHeldPerPerson"/>; with several roles, the largest applies.</summary>
    public Dictionary<string, int> MaxHeldPerRole { get; set; } = [];

    /// <summary>The latest a hold that began at <paramref name="since"/> may end.</summary>
    public DateTime LatestEnd(DateTime since) => since + HardMaxTotal;

    /// <summary>How much longer a hold may run than it does now: bounded by <see cref="MaxDuration"/> from now and by <see cref="HardMaxTotal"/>.</summary>
    public TimeSpan RoomToExtend(DateTime since, DateTime until, DateTime now)
    {
        var latest = Min(now + MaxDuration, LatestEnd(since));
        return latest > until ? latest - until : TimeSpan.Zero;
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    /// <summary>Durations offered on the claim and extend menus (each capped by <see cref="MaxDuration"/>).</summary>
    public List<TimeSpan> Choices { get; set; } = [TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(4), TimeSpan.FromHours(8), TimeSpan.FromHours(24)];
}

internal sealed class HoldOptionsValidator : IValidateOptions<HoldOptions>
{
    public ValidateOptionsResult Validate(string? name, HoldOptions o) => new OptionRules(HoldOptions.Section)
        .Positive(nameof(o.MinDuration), o.MinDuration)
        .Positive(nameof(o.DefaultDuration), o.DefaultDuration)
        .Check(o.MinDuration <= o.DefaultDuration, "Holds:MinDuration must be at most Holds:DefaultDuration.")
        .Check(o.DefaultDuration <= o.MaxDuration, "Holds:DefaultDuration must be at most Holds:MaxDuration.")
        .Check(o.MaxDuration <= o.HardMaxTotal, "Holds:HardMaxTotal must be at least Holds:MaxDuration.")
        .NotNegative(nameof(o.RemindBefore), o.RemindBefore)
        .Check(o.RemindBefore < o.DefaultDuration, "Holds:RemindBefore must be shorter than Holds:DefaultDuration.")
        .Positive(nameof(o.MaxHeldPerPerson), o.MaxHeldPerPerson)
        .Check(o.MaxHeldPerRole.Values.All(v => v > 0), "Every Holds:MaxHeldPerRole value must be positive.")
        .Result();
}

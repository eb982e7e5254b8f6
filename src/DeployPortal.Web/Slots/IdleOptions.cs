using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>Bound from <c>Idle</c>: when a held slot counts as unused, and what the portal may do about it.</summary>
internal sealed class IdleOptions
{
    public const string Section = "Idle";

    /// <summary>A hold with no deploy, extension, or page or log view of its slot for this long is shown as idle.</summary>
    public TimeSpan After { get; set; } = TimeSpan.FromHours(2);

    /// <summary>
    /// A hold idle this long is given back unless its holder keeps it: they are asked (board and notification, one-click
    /// "keep it"), and without an answer within <see cref="AnswerWithin"/> the hold ends as if it expired, so the next
    /// person in line gets the slot. Null turns giving back off. The default comes from the simulated week (README).
    /// </summary>
    public TimeSpan? ReleaseAfter { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long an asked holder has to answer when nobody is waiting.</summary>
    public TimeSpan AnswerWithin { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// When someone waits for a slot like this one, a hold idle this long is asked at once (the portal asks around
    /// for the person waiting) and <see cref="AnswerWithinWhenQueued"/> applies, also to a holder asked earlier.
    /// </summary>
    public TimeSpan AskWhenQueuedAfter { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long an asked holder has to answer while someone waits.</summary>
    public TimeSpan AnswerWithinWhenQueued { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The give-back times used instead of the four above while app traffic is read (<c>Activity:Prometheus:Url</c> set):
    /// requests to a slot's apps tell someone still testing from a forgotten slot far better than the portal's own pages
    /// do, so the portal can ask sooner and give less time to answer without taking slots from people still at work
    /// (any use after the question answers it). <see cref="ReleaseAfter"/> empty still turns giving back off. The
    /// defaults come from the simulated week (docs/benchmarks.md).
    /// </summary>
    public IdleGiveBackTimes WithAppTraffic { get; set; } = new()
    {
        ReleaseAfter = TimeSpan.FromMinutes(20),
        AnswerWithin = TimeSpan.FromMinutes(10),
        AskWhenQueuedAfter = TimeSpan.FromMinutes(10),
        AnswerWithinWhenQueued = TimeSpan.FromMinutes(5),
    };

    /// <summary>Whether app traffic is read: set by the portal from <c>Activity:Prometheus:Url</c>, not a setting of its own.</summary>
    internal bool AppTrafficRead { get; set; }

    /// <summary>The give-back times in force (<see cref="WithAppTraffic"/> while app traffic is read); null when giving back is off.</summary>
    public IdleGiveBackTimes? GiveBack => ReleaseAfter is not { } releaseAfter ? null
        : AppTrafficRead ? WithAppTraffic
        : new() { ReleaseAfter = releaseAfter, AnswerWithin = AnswerWithin, AskWhenQueuedAfter = AskWhenQueuedAfter, AnswerWithinWhenQueued = AnswerWithinWhenQueued };

    /// <summary>Whether held slots may sleep (their apps scaled to zero), by hand on the board or after <see cref="SleepAfter"/>.</summary>
    public bool AllowSleep { get; set; } = true;

    /// <summary>
    /// A hold with something deployed and unused this long is put to sleep by the portal: its apps scale to zero and the
    /// hold stays. A deploy or Wake wakes it. Null turns automatic sleep off (by hand stays).
    /// </summary>
    public TimeSpan? SleepAfter { get; set; } = TimeSpan.FromMinutes(30);
}

/// <summary>When an idle hold is asked whether it is still needed, and how long its holder has to answer (see <see cref="IdleOptions"/>).</summary>
internal sealed class IdleGiveBackTimes
{
    public TimeSpan ReleaseAfter { get; set; }
    public TimeSpan AnswerWithin { get; set; }
    public TimeSpan AskWhenQueuedAfter { get; set; }
    public TimeSpan AnswerWithinWhenQueued { get; set; }
}

internal sealed class IdleOptionsValidator : IValidateOptions<IdleOptions>
{
    public ValidateOptionsResult Validate(string? name, IdleOptions o) => new OptionRules(IdleOptions.Section)
        .Positive(nameof(o.After), o.After)
        .Positive(nameof(o.ReleaseAfter), o.ReleaseAfter)
        .Positive(nameof(o.AnswerWithin), o.AnswerWithin)
        .Positive(nameof(o.AskWhenQueuedAfter), o.AskWhenQueuedAfter)
        .Positive(nameof(o.AnswerWithinWhenQueued), o.AnswerWithinWhenQueued)
        .Positive(nameof(o.SleepAfter), o.SleepAfter)
        .Positive("WithAppTraffic:ReleaseAfter", o.WithAppTraffic.ReleaseAfter)
        .Positive("WithAppTraffic:AnswerWithin", o.WithAppTraffic.AnswerWithin)
        .Positive("WithAppTraffic:AskWhenQueuedAfter", o.WithAppTraffic.AskWhenQueuedAfter)
        .Positive("WithAppTraffic:AnswerWithinWhenQueued", o.WithAppTraffic.AnswerWithinWhenQueued)
        .Result();
}

using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Logs;

/// <summary>Bound from <c>Logs</c>.</summary>
internal sealed class LogOptions
{
    public const string Section = "Logs";

    /// <summary>Lines the hub keeps per stream so a viewer that opens late sees recent lines at once.</summary>
    public int BufferLines { get; set; } = 5_000;

    /// <summary>How long an upstream follow stays open after its last viewer left (a page reload should not reconnect).</summary>
    public TimeSpan IdleGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First pause before reconnecting a dropped stream; it doubles up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Kept under 5 s so a dropped stream is always back within 5 s while the cluster answers.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Events a subscriber may have unread before the oldest are dropped (and counted), so a stuck page cannot exhaust memory.</summary>
    public int SubscriberQueue { get; set; } = 100_000;
}

internal sealed class LogOptionsValidator : IValidateOptions<LogOptions>
{
    public ValidateOptionsResult Validate(string? name, LogOptions o) => new OptionRules(LogOptions.Section)
        .Positive(nameof(o.BufferLines), o.BufferLines)
        .Positive(nameof(o.SubscriberQueue), o.SubscriberQueue)
        .Positive(nameof(o.ReconnectDelay), o.ReconnectDelay)
        .Check(o.MaxReconnectDelay < TimeSpan.FromSeconds(5), "Logs:MaxReconnectDelay must stay under 5 s.")
        .Result();
}

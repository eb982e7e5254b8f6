using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>Bound from <c>Activity</c>: signs of use beyond the portal's own pages.</summary>
internal sealed class ActivityOptions
{
    public const string Section = "Activity";

    /// <summary>Requests reaching a slot's apps, read from Prometheus. Without <see cref="PrometheusActivityOptions.Url"/> nothing is read.</summary>
    public PrometheusActivityOptions Prometheus { get; set; } = new();
}

/// <summary>The ingress controllers whose request counters the portal knows how to ask for.</summary>
public enum AppTrafficPreset
{
    /// <summary><c>nginx_ingress_controller_requests</c>, by <c>exported_namespace</c>.</summary>
    IngressNginx = 1,

    /// <summary><c>traefik_service_requests_total</c>, by <c>service</c> (<c>namespace-service-port@kubernetes</c>).</summary>
    Traefik = 2,
}

internal sealed class PrometheusActivityOptions
{
    /// <summary>The Prometheus server, e.g. <c>http://prometheus.monitoring:9090</c>. Empty: app traffic is not read.</summary>
    public Uri? Url { get; set; }

    /// <summary>Which ready-made query to use when <see cref="Query"/> is empty.</summary>
    public AppTrafficPreset Preset { get; set; } = AppTrafficPreset.IngressNginx;

    /// <summary>
    /// Own PromQL instead of the preset's: one query for all slots, grouped by a label that names the namespace (or starts
    /// with it and a dash). Placeholders: <c>{namespaces}</c> (a regex alternation of the held slots' namespaces) and
    /// <c>{window}</c> (twice <see cref="PollEvery"/>, e.g. <c>120s</c>).
    /// </summary>
    public string? Query { get; set; }

    /// <summary>The result label naming the slot's namespace; empty: the preset's (<c>exported_namespace</c>, or <c>service</c> for Traefik).</summary>
    public string? Label { get; set; }

    /// <summary>How often the portal asks, in whole minutes (one query per poll, whatever the number of slots).</summary>
    public TimeSpan PollEvery { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>One attempt; a slower Prometheus is asked once more, then the poll is skipped with a warning.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}

internal sealed class ActivityOptionsValidator : IValidateOptions<ActivityOptions>
{
    public ValidateOptionsResult Validate(string? name, ActivityOptions o)
    {
        var p = o.Prometheus;
        return new OptionRules(ActivityOptions.Section)
            .HttpUrl("Prometheus:Url", p.Url)
            .Check(Enum.IsDefined(p.Preset), $"{ActivityOptions.Section}:Prometheus:Preset must be IngressNginx or Traefik.")
            .Check(p.PollEvery >= TimeSpan.FromMinutes(1) && p.PollEvery <= TimeSpan.FromHours(1) && p.PollEvery.Ticks % TimeSpan.TicksPerMinute == 0,
                $"{ActivityOptions.Section}:Prometheus:PollEvery must be whole minutes between 00:01:00 and 01:00:00.")
            .Positive("Prometheus:Timeout", p.Timeout)
            .Check(string.IsNullOrWhiteSpace(p.Query) || !string.IsNullOrWhiteSpace(p.Label),
                $"{ActivityOptions.Section}:Prometheus:Label must name the namespace label of your own Query's result.")
            .Result();
    }
}

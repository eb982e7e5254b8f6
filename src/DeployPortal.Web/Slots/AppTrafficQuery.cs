using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace DeployPortal.Web.Slots;

/// <summary>
/// The one PromQL query a poll sends (per preset, or the operator's own template) and how its answer maps back to
/// slots: every series is grouped by a label that is the slot's namespace (ingress-nginx) or starts with it and a dash
/// (Traefik's <c>qa-2-storefront-80@kubernetes</c>). Pure functions, unit-tested.
/// </summary>
internal static partial class AppTrafficQuery
{
    public const string IngressNginx =
        "sum by (exported_namespace) (increase(nginx_ingress_controller_requests{exported_namespace=~\"{namespaces}\"}[{window}]))";

    public const string Traefik =
        "sum by (service) (increase(traefik_service_requests_total{service=~\"({namespaces})-.+\"}[{window}]))";

    public static string Template(PrometheusActivityOptions o) => !string.IsNullOrWhiteSpace(o.Query)
        ? o.Query
        : o.Preset == AppTrafficPreset.Traefik ? Traefik : IngressNginx;

    public static string Label(PrometheusActivityOptions o) => !string.IsNullOrWhiteSpace(o.Label)
        ? o.Label
        : o.Preset == AppTrafficPreset.Traefik ? "service" : "exported_namespace";

    /// <summary>The look-back of one poll: twice the poll interval, so a late run or a slow scrape misses no request.</summary>
    public static string Window(TimeSpan pollEvery) => $"{(long)(pollEvery.TotalSeconds * 2)}s";

    /// <summary>The query for these namespaces (only Kubernetes namespace names are put in; anything else is left out).</summary>
    public static string Render(PrometheusActivityOptions o, IEnumerable<string> namespaces) => Template(o)
        .Replace("{namespaces}", string.Join('|', namespaces.Where(n => NamespaceName().IsMatch(n)).Distinct().Order(StringComparer.Ordinal)), StringComparison.Ordinal)
        .Replace("{window}", Window(o.PollEvery), StringComparison.Ordinal);

    /// <summary>The namespaces with requests (a value above zero) in an instant-vector answer of <c>/api/v1/query</c>.</summary>
    public static IReadOnlySet<string> Busy(JsonElement answer, string label, IReadOnlyCollection<string> namespaces)
    {
        if (answer.GetProperty("status").GetString() != "success")
        {
            throw new JsonException($"Prometheus answered status {answer.GetProperty("status")}: {(answer.TryGetProperty("error", out var e) ? e.ToString() : "")}");
        }

        var busy = new HashSet<string>(StringComparer.Ordinal);
        foreach (var series in answer.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            var value = double.Parse(series.GetProperty("value")[1].GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (value > 0 && series.GetProperty("metric").TryGetProperty(label, out var name) && Match(name.GetString() ?? "", namespaces) is { } ns)
            {
                busy.Add(ns);
            }
        }

        return busy;
    }

    /// <summary>The namespace a label value names: itself, or the longest namespace it starts with followed by a dash.</summary>
    public static string? Match(string value, IReadOnlyCollection<string> namespaces) =>
        namespaces.Contains(value)
            ? value
            : namespaces.Where(n => value.StartsWith(n + "-", StringComparison.Ordinal)).OrderByDescending(n => n.Length).FirstOrDefault();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex NamespaceName();
}

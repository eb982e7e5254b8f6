using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Traffic;

/// <summary>
/// Request counters for the emulated apps, as an ingress-nginx controller counts them, so a real Prometheus can scrape
/// the emulator's <c>/metrics</c> and the portal can read app traffic from it. Traffic is simulated on request
/// (<c>POST /emulator/traffic/{namespace}/{app}?requests=N&amp;status=200</c>): the emulator has no ingress controller.
/// <para>
/// The series carry the labels <c>nginx_ingress_controller_requests</c> has after a typical Kubernetes scrape, where the
/// controller's own <c>namespace</c>/<c>service</c> labels clash with the target's and become <c>exported_namespace</c> and
/// <c>exported_service</c>.
/// </para>
/// </summary>
internal sealed class IngressTraffic(ObjectStore store)
{
    public const string MetricName = "nginx_ingress_controller_requests";

    private readonly ConcurrentDictionary<(string Namespace, string Service, string Ingress, string Host, string Status), long> _counts = new();

    /// <summary>Counts <paramref name="requests"/> requests to the app's Service; null when there is no such Service (the reason otherwise).</summary>
    public string? Record(string ns, string app, int requests, int status)
    {
        if (requests is < 1 or > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(requests), "requests must be between 1 and 1000000");
        }

        if (status is < 100 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(status), "status must be an HTTP status code (100-599)");
        }

        if (store.Get(ResourceKind.Service, ns, app) is null)
        {
            return $"services \"{app}\" not found in namespace \"{ns}\"";
        }

        // The Ingress whose rules lead to the app's Service names the host, as the controller's labels do.
        var ingress = store.List(ResourceKind.Ingress, ns).Items.FirstOrDefault(i => Backends(i).Contains(app));
        var host = ingress?.Node["spec"]?["rules"]?[0]?["host"]?.GetValue<string>() ?? "";
        _counts.AddOrUpdate((ns, app, ingress?.Name ?? "", host, status.ToString(CultureInfo.InvariantCulture)), requests, (_, n) => n + requests);
        return null;
    }

    /// <summary>The counters in the Prometheus text exposition format (version 0.0.4).</summary>
    public string Render()
    {
        var text = new StringBuilder();
        text.Append("# HELP ").Append(MetricName).Append(" The total number of client requests\n");
        text.Append("# TYPE ").Append(MetricName).Append(" counter\n");
        foreach (var (key, count) in _counts.OrderBy(c => c.Key.Namespace, StringComparer.Ordinal).ThenBy(c => c.Key.Service, StringComparer.Ordinal))
        {
            text.Append(MetricName).Append("{controller_class=\"k8s.io/ingress-nginx\",controller_namespace=\"ingress-nginx\",controller_pod=\"ingress-nginx-controller-emulator\"")
                .Append(",exported_namespace=\"").Append(Escape(key.Namespace))
                .Append("\",exported_service=\"").Append(Escape(key.Service))
                .Append("\",host=\"").Append(Escape(key.Host))
                .Append("\",ingress=\"").Append(Escape(key.Ingress))
                .Append("\",method=\"GET\",path=\"/\",status=\"").Append(key.Status)
                .Append("\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }

    private static IEnumerable<string> Backends(StoredObject ingress) =>
        (ingress.Node["spec"]?["rules"]?.AsArray() ?? [])
            .SelectMany(r => r?["http"]?["paths"]?.AsArray() ?? [])
            .Select(p => p?["backend"]?["service"]?["name"]?.GetValue<string>() ?? "");

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

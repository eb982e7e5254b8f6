using DeployPortal.KubeEmulator;
using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Cluster;

public enum ClusterMode
{
    /// <summary>The built-in Kubernetes API emulator, in-process on loopback (the embedded default).</summary>
    Emulator,

    /// <summary>A kubeconfig file (and optionally a context in it).</summary>
    Kubeconfig,

    /// <summary>The pod's own service account, when the portal runs inside the cluster.</summary>
    InCluster,
}

/// <summary>Bound from <c>Cluster</c>.</summary>
internal sealed class ClusterOptions
{
    public const string Section = "Cluster";

    public ClusterMode Mode { get; set; } = ClusterMode.Emulator;

    public string? KubeconfigPath { get; set; }

    public string? Context { get; set; }

    /// <summary>
    /// Replaces the API server address of the kubeconfig's cluster (Kubeconfig mode). For a kubeconfig written
    /// for another vantage point, e.g. k3s writes <c>https://127.0.0.1:6443</c>, which from a neighbouring
    /// container is <c>https://k3s:6443</c>. The kubeconfig's CA still verifies the server's certificate, so
    /// the name used here must be one the certificate was issued for (k3s: <c>--tls-san</c>).
    /// </summary>
    public string? Server { get; set; }

    /// <summary>
    /// Create (server-side apply) a slot's namespace before deploying into it. That is a cluster-scoped write;
    /// turn it off when the portal runs with namespaced rights only (the Helm chart does) and the namespaces
    /// are created by whoever installs the portal.
    /// </summary>
    public bool CreateNamespaces { get; set; } = true;

    /// <summary>The Deployment's <c>progressDeadlineSeconds</c>: how long a rollout may make no progress before it fails.</summary>
    public int ProgressDeadlineSeconds { get; set; } = 120;

    /// <summary>Limit for one API call (not for watches); a call that hangs longer is retried.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Retries of a call that failed transiently (5xx, 429, timeouts, dropped connections).</summary>
    public int MaxRetries { get; set; } = 5;

    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// The namespaces slots may be given: names, or prefixes ending in <c>*</c> (e.g. <c>qa-*</c>). Empty: any
    /// namespace except Kubernetes' own (<c>default</c>, <c>kube-*</c>) and the portal's.
    /// </summary>
    public List<string> AllowedNamespaces { get; set; } = [];

    /// <summary>The portal's own namespace, never a slot's. In the cluster it is read from the service account when not set.</summary>
    public string? PortalNamespace { get; set; }

    /// <summary>Host name pattern of an app's Ingress and public URL in a slot.</summary>
    public string HostPattern { get; set; } = "{app}.{slot}.test.example.com";

    /// <summary>
    /// Wake on access: the DNS name of the portal's Service as seen from the slots (e.g.
    /// <c>deployportal.deployportal.svc.cluster.local</c>). While a slot sleeps, its apps' Ingresses point at an
    /// ExternalName Service with this name, so opening an app's address reaches the portal's "waking it" page. Empty:
    /// Ingresses are left alone while asleep.
    /// </summary>
    public string? WakeHost { get; set; }

    /// <summary>Settings of the in-process emulator in <see cref="ClusterMode.Emulator"/>.</summary>
    public EmulatorOptions Emulator { get; set; } = new();
}

internal sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions o) => new OptionRules(ClusterOptions.Section)
        .Check(o.Mode != ClusterMode.Kubeconfig || !string.IsNullOrWhiteSpace(o.KubeconfigPath), "Cluster:KubeconfigPath is required in Kubeconfig mode.")
        .Check(o.Server is null || Uri.TryCreate(o.Server, UriKind.Absolute, out _), "Cluster:Server must be an absolute URL, e.g. https://k3s:6443.")
        .Positive(nameof(o.RequestTimeout), o.RequestTimeout)
        .NotNegative(nameof(o.MaxRetries), o.MaxRetries)
        .Result();
}

using DeployPortal.KubeEmulator;

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
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    public ClusterMode Mode { get; set; } = ClusterMode.Emulator;

    public string? KubeconfigPath { get; set; }

    public string? Context { get; set; }

    /// <summary>The Deployment's <c>progressDeadlineSeconds</c>: how long a rollout may make no progress before it fails.</summary>
    public int ProgressDeadlineSeconds { get; set; } = 120;

    /// <summary>Limit for one API call (not for watches); a call that hangs longer is retried.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Retries of a call that failed transiently (5xx, 429, timeouts, dropped connections).</summary>
    public int MaxRetries { get; set; } = 5;

    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Host name pattern of an app's Ingress and public URL in a slot.</summary>
    public string HostPattern { get; set; } = "{app}.{slot}.test.example.com";

    /// <summary>Settings of the in-process emulator in <see cref="ClusterMode.Emulator"/>.</summary>
    public EmulatorOptions Emulator { get; set; } = new();
}

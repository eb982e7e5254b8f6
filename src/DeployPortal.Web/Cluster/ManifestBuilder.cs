using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using DeployPortal.Web.Deployments;
using k8s.Models;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Cluster;

/// <summary>What the portal applies for one app in one slot.</summary>
internal sealed record AppManifest(
    string Namespace,
    string Slot,
    string App,
    string Image,
    int ContainerPort,
    int Replicas,
    IReadOnlyDictionary<string, string> Env,
    string CpuRequest,
    string MemoryRequest,
    ManifestOrigin Origin);

/// <summary>Which deployment an app's objects come from: it becomes their labels and annotations.</summary>
internal sealed record ManifestOrigin(long DeploymentId, long? HoldId, string Branch, string Commit, string RequestedById, string RequestedByName);

/// <summary>The objects one server-side apply writes for an app.</summary>
internal sealed record AppObjects(V1Deployment Deployment, V1Service Service, V1Ingress Ingress);

/// <summary>
/// The Kubernetes objects, labels, selectors and patches the portal writes, built without talking to the cluster.
/// The one place the portal's labels are made: what the gateway applies, lists, watches, scales and deletes by.
/// </summary>
internal sealed class ManifestBuilder(IOptions<ClusterOptions> options)
{
    public const string FieldManager = "deployportal";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string AppLabel = "app.kubernetes.io/name";
    public const string HoldLabel = "deployportal.io/hold";

    /// <summary>Where a sleeping Deployment remembers how many replicas to wake up with.</summary>
    public const string ReplicasBeforeSleepAnnotation = "deployportal.io/replicas-before-sleep";

    /// <summary>Sleep and wake patch under their own field manager, so the next deploy's (forced) apply takes the replicas back.</summary>
    public const string SleepFieldManager = FieldManager + "-sleep";

    /// <summary>The ExternalName Service a sleeping slot's Ingresses point at: it leads to the portal's wake page.</summary>
    public const string WakeServiceName = "deployportal-wake";

    /// <summary>Host name of an app's Ingress and public URL in a slot.</summary>
    public string HostFor(string app, string slot) => options.Value.HostPattern.Replace("{app}", app).Replace("{slot}", slot);

    /// <summary>The app and slot an address of <see cref="HostFor"/> names; null for any other host.</summary>
    public (string App, string Slot)? ParseHost(string host)
    {
        var pattern = "^" + Regex.Escape(options.Value.HostPattern).Replace(@"\{app}", "(?<app>[a-z0-9-]+)").Replace(@"\{slot}", "(?<slot>[a-z0-9-]+)") + "$";
        var match = Regex.Match(host, pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
        return match.Success ? (match.Groups["app"].Value.ToLowerInvariant(), match.Groups["slot"].Value.ToLowerInvariant()) : null;
    }

    /// <summary>Selects the pods (and the Service's endpoints) of one app.</summary>
    public static string AppSelector(string app) => $"{AppLabel}={app}";

    /// <summary>Selects everything the portal applied for one hold.</summary>
    public static string HoldSelector(long holdId) => $"{ManagedByLabel}={FieldManager},{HoldLabel}={holdId}";

    public static V1Namespace Namespace(string name) => new()
    {
        ApiVersion = "v1",
        Kind = "Namespace",
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { [ManagedByLabel] = FieldManager } },
    };

    /// <summary>The labels of every object applied for <paramref name="m"/> (and of its pods).</summary>
    public static Dictionary<string, string> Labels(AppManifest m)
    {
        var o = m.Origin;
        return new Dictionary<string, string>
        {
            [AppLabel] = m.App,
            [ManagedByLabel] = FieldManager,
            ["deployportal.io/slot"] = m.Slot,
            ["deployportal.io/branch"] = KubeNames.Label(o.Branch),
            ["deployportal.io/commit"] = o.Commit.Length > 12 ? o.Commit[..12] : o.Commit,
            ["deployportal.io/requester"] = KubeNames.Label(o.RequestedById),
            [HoldLabel] = o.HoldId?.ToString(CultureInfo.InvariantCulture) ?? "none",
            ["deployportal.io/deployment"] = o.DeploymentId.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>The annotations: what the labels had to shorten or sanitise, as it was.</summary>
    public static Dictionary<string, string> Annotations(AppManifest m) => new()
    {
        ["deployportal.io/branch"] = m.Origin.Branch,
        ["deployportal.io/commit"] = m.Origin.Commit,
        ["deployportal.io/requested-by"] = m.Origin.RequestedByName,
    };

    /// <summary>The app's Deployment, Service and Ingress, ready for server-side apply.</summary>
    public AppObjects Build(AppManifest m)
    {
        var labels = Labels(m);
        var annotations = Annotations(m);
        var meta = new V1ObjectMeta { Name = m.App, NamespaceProperty = m.Namespace, Labels = labels, Annotations = annotations };
        var selector = new Dictionary<string, string> { [AppLabel] = m.App };
        var deployment = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = meta,
            Spec = new V1DeploymentSpec
            {
                Replicas = m.Replicas,
                ProgressDeadlineSeconds = options.Value.ProgressDeadlineSeconds,
                Selector = new V1LabelSelector { MatchLabels = selector },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels), Annotations = new Dictionary<string, string>(annotations) },
                    Spec = new V1PodSpec
                    {
                        Containers =
                        [
                            new V1Container
                            {
                                Name = m.App,
                                Image = m.Image,
                                Ports = [new V1ContainerPort { ContainerPort = m.ContainerPort, Name = "http" }],
                                Env = [.. m.Env.Select(e => new V1EnvVar { Name = e.Key, Value = e.Value })],
                                Resources = new V1ResourceRequirements
                                {
                                    Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(m.CpuRequest), ["memory"] = new(m.MemoryRequest) },
                                },
                            },
                        ],
                    },
                },
            },
        };
        var service = new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = meta,
            Spec = new V1ServiceSpec { Selector = selector, Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = m.ContainerPort }] },
        };
        var ingress = new V1Ingress
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "Ingress",
            Metadata = meta,
            Spec = new V1IngressSpec
            {
                Rules =
                [
                    new V1IngressRule
                    {
                        Host = HostFor(m.App, m.Slot),
                        Http = new V1HTTPIngressRuleValue
                        {
                            Paths = [new V1HTTPIngressPath { Path = "/", PathType = "Prefix", Backend = new V1IngressBackend { Service = new V1IngressServiceBackend { Name = m.App, Port = new V1ServiceBackendPort { Number = 80 } } } }],
                        },
                    },
                ],
            },
        };
        return new AppObjects(deployment, service, ingress);
    }

    /// <summary>
    /// The merge patch that puts a Deployment to sleep (zero replicas, its count remembered in an annotation);
    /// null for one already asleep, which keeps its remembered count.
    /// </summary>
    public static string? SleepPatch(V1Deployment deployment) =>
        deployment.Metadata.Annotations?.ContainsKey(ReplicasBeforeSleepAnnotation) == true
            ? null
            : ScalePatch((deployment.Spec.Replicas ?? 1).ToString(CultureInfo.InvariantCulture), 0);

    /// <summary>The replicas a Deployment runs with when awake: its remembered count while asleep.</summary>
    public static int WantedReplicas(V1Deployment deployment) => Remembered(deployment) ?? deployment.Spec.Replicas ?? 1;

    /// <summary>The replicas a sleeping Deployment remembers; null for one awake.</summary>
    private static int? Remembered(V1Deployment deployment) =>
        deployment.Metadata.Annotations?.TryGetValue(ReplicasBeforeSleepAnnotation, out var value) == true && int.TryParse(value, out var replicas) ? replicas : null;

    /// <summary>The merge patch that gives a sleeping Deployment its remembered replicas back; null for one awake.</summary>
    public static string? WakePatch(V1Deployment deployment) => Remembered(deployment) is { } replicas ? ScalePatch(null, replicas) : null;

    /// <summary>True while a Deployment is asleep: it remembers the replicas it had.</summary>
    public static bool IsAsleep(V1Deployment deployment) => Remembered(deployment) is not null;

    /// <summary>
    /// Puts a Deployment's manifest to sleep as <see cref="SleepPatch"/> does the live object (GitOps mode edits the file);
    /// false for one asleep already.
    /// </summary>
    public static bool Sleep(V1Deployment deployment)
    {
        if (IsAsleep(deployment))
        {
            return false;
        }

        deployment.Metadata.Annotations ??= new Dictionary<string, string>();
        deployment.Metadata.Annotations[ReplicasBeforeSleepAnnotation] = (deployment.Spec.Replicas ?? 1).ToString(CultureInfo.InvariantCulture);
        deployment.Spec.Replicas = 0;
        return true;
    }

    /// <summary>Gives a sleeping Deployment's manifest its remembered replicas back, as <see cref="WakePatch"/> does; false for one awake.</summary>
    public static bool Wake(V1Deployment deployment)
    {
        if (Remembered(deployment) is not { } replicas)
        {
            return false;
        }

        deployment.Metadata.Annotations.Remove(ReplicasBeforeSleepAnnotation);
        deployment.Spec.Replicas = replicas;
        return true;
    }

    /// <summary>Points every path of an Ingress's manifest at <paramref name="service"/> (port 80), as <see cref="BackendPatch"/> does; false when it did already.</summary>
    public static bool Route(V1Ingress ingress, string service)
    {
        var paths = ingress.Spec?.Rules?.SelectMany(r => r.Http?.Paths ?? []).ToList() ?? [];
        if (paths.All(p => p.Backend?.Service?.Name == service))
        {
            return false;
        }

        foreach (var path in paths)
        {
            path.Backend = new V1IngressBackend { Service = new V1IngressServiceBackend { Name = service, Port = new V1ServiceBackendPort { Number = 80 } } };
        }

        return true;
    }

    /// <summary>
    /// The Service in a sleeping slot that forwards to the portal (<paramref name="portalHost"/>): an Ingress may only name
    /// a Service in its own namespace, and an ExternalName Service is the cluster's way to name one elsewhere. Labelled
    /// with the hold, so the hold's teardown removes it.
    /// </summary>
    public static V1Service WakeService(string ns, long holdId, string portalHost, string name = WakeServiceName) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string> { [ManagedByLabel] = FieldManager, [HoldLabel] = holdId.ToString(CultureInfo.InvariantCulture) },
        },
        Spec = new V1ServiceSpec { Type = "ExternalName", ExternalName = portalHost, Ports = [new V1ServicePort { Name = "http", Port = 80 }] },
    };

    /// <summary>
    /// The merge patch that points every path of an Ingress at <paramref name="service"/> (port 80); null when it does
    /// already. Merge patches replace lists whole, so the patch carries the Ingress's rules with only the backends changed.
    /// </summary>
    public static string? BackendPatch(V1Ingress ingress, string service)
    {
        var paths = ingress.Spec?.Rules?.SelectMany(r => r.Http?.Paths ?? []).ToList() ?? [];
        if (paths.All(p => p.Backend?.Service?.Name == service))
        {
            return null;
        }

        var rules = ingress.Spec!.Rules.Select(r => new
        {
            host = r.Host,
            http = new
            {
                paths = (r.Http?.Paths ?? []).Select(p => new
                {
                    path = p.Path,
                    pathType = p.PathType,
                    backend = new { service = new { name = service, port = new { number = 80 } } },
                }),
            },
        });
        return JsonSerializer.Serialize(new { spec = new { rules } });
    }

    /// <summary>A merge patch setting the replicas and the remembered count (null removes the annotation).</summary>
    private static string ScalePatch(string? remembered, int replicas) => JsonSerializer.Serialize(new
    {
        metadata = new { annotations = new Dictionary<string, string?> { [ReplicasBeforeSleepAnnotation] = remembered } },
        spec = new { replicas },
    });
}

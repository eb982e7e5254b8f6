namespace DeployPortal.KubeEmulator.Store;

/// <summary>A resource type the emulator serves: where it lives in the API and how it is named.</summary>
internal sealed record ResourceKind(
    string Group, string Version, string Kind, string Plural, string Singular, bool Namespaced,
    string[] ShortNames, string[] Subresources, bool ReturnsObjectOnDelete)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";
    public string GroupVersion => ApiVersion;
    public string ListKind => Kind + "List";
    /// <summary>"deployments.apps" or "pods", as Kubernetes messages name a resource.</summary>
    public string QualifiedPlural => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
    /// <summary>"Deployment.apps" or "Pod", as validation messages name a kind.</summary>
    public string QualifiedKind => Group.Length == 0 ? Kind : $"{Kind}.{Group}";

    public static readonly ResourceKind Namespace = new("", "v1", "Namespace", "namespaces", "namespace", false, ["ns"], ["status", "finalize"], true);
    public static readonly ResourceKind Pod = new("", "v1", "Pod", "pods", "pod", true, ["po"], ["log", "status"], true);
    public static readonly ResourceKind Service = new("", "v1", "Service", "services", "service", true, ["svc"], ["status"], true);
    public static readonly ResourceKind Event = new("", "v1", "Event", "events", "event", true, ["ev"], [], false);
    public static readonly ResourceKind ConfigMap = new("", "v1", "ConfigMap", "configmaps", "configmap", true, ["cm"], [], false);
    public static readonly ResourceKind Secret = new("", "v1", "Secret", "secrets", "secret", true, [], [], false);
    public static readonly ResourceKind Node = new("", "v1", "Node", "nodes", "node", false, ["no"], ["status"], false);
    public static readonly ResourceKind Deployment = new("apps", "v1", "Deployment", "deployments", "deployment", true, ["deploy"], ["status", "scale"], false);
    public static readonly ResourceKind ReplicaSet = new("apps", "v1", "ReplicaSet", "replicasets", "replicaset", true, ["rs"], ["status", "scale"], false);
    public static readonly ResourceKind Ingress = new("networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", true, ["ing"], ["status"], false);
    public static readonly ResourceKind ResourceQuota = new("", "v1", "ResourceQuota", "resourcequotas", "resourcequota", true, ["quota"], ["status"], false);
    public static readonly ResourceKind LimitRange = new("", "v1", "LimitRange", "limitranges", "limitrange", true, ["limits"], [], false);

    /// <summary>Argo CD's Application (a custom resource; its CRD has no status subresource, so the controller writes status with the object).</summary>
    public static readonly ResourceKind Application = new("argoproj.io", "v1alpha1", "Application", "applications", "application", true, ["app", "apps"], [], false);

    public static readonly IReadOnlyList<ResourceKind> All = [Namespace, Pod, Service, Event, ConfigMap, Secret, Node, Deployment, ReplicaSet, Ingress, ResourceQuota, LimitRange, Application];

    public static ResourceKind? Find(string group, string version, string plural) =>
        All.FirstOrDefault(k => k.Group == group && k.Version == version && k.Plural == plural);

    public string[] Categories => Kind is "Pod" or "Service" or "Deployment" or "ReplicaSet" ? ["all"] : [];
}

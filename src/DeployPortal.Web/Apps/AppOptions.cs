using System.ComponentModel.DataAnnotations;

namespace DeployPortal.Web.Apps;

/// <summary>Something that can be deployed into a slot. Configured by an admin (the <c>Apps</c> section).</summary>
public sealed class AppDefinition
{
    /// <summary>DNS label: the Kubernetes Deployment, Service and Ingress in each slot are named after it.</summary>
    [Required, RegularExpression("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    public string Name { get; set; } = "";

    public string Description { get; set; } = "";

    /// <summary>Where branches come from: any remote <c>git ls-remote</c> understands (URL or path).</summary>
    [Required]
    public string GitRemote { get; set; } = "";

    /// <summary>Image repository CI pushes branch builds to, e.g. <c>registry.example.com/shop/web</c>.</summary>
    [Required]
    public string ImageRepository { get; set; } = "";

    /// <summary>Tag of a branch's image: <c>{branchSlug}</c>, <c>{branchSlugHash}</c>, <c>{shortSha}</c>, <c>{sha}</c>, e.g. <c>{branchSlug}-{shortSha}</c>.</summary>
    [Required]
    public string TagTemplate { get; set; } = "{branchSlug}";

    [Range(1, 65535)]
    public int ContainerPort { get; set; } = 8080;

    [Range(0, 20)]
    public int Replicas { get; set; } = 1;

    public Dictionary<string, string> Env { get; set; } = [];

    public string CpuRequest { get; set; } = "100m";

    public string MemoryRequest { get; set; } = "128Mi";

    public string HealthPath { get; set; } = "/healthz";
}

/// <summary>Bound from <c>Apps</c>.</summary>
internal sealed class AppsOptions
{
    public const string Section = "Apps";

    public List<AppDefinition> Items { get; set; } = [];

    /// <summary>
    /// Adds demo apps backed by a real git repository created in the data folder on first start, with a
    /// branch whose image crashes so the failure path can be seen. On for the embedded default.
    /// </summary>
    public bool Demo { get; set; }
}

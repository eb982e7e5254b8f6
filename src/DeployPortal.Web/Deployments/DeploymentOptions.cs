using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Deployments;

/// <summary>Bound from <c>Deployments</c>.</summary>
internal sealed class DeploymentOptions
{
    public const string Section = "Deployments";

    /// <summary>
    /// How long a worker holds a running deployment without renewing (it renews every third of this). After a
    /// crash, another worker takes the deployment over once the lease has lapsed.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often every replica looks for deployments whose worker's lease lapsed (a killed process) to resume them.</summary>
    public TimeSpan LeaseCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How a deployment reaches the cluster: <see cref="DeploymentMode.Direct"/> applies it, <see cref="DeploymentMode.GitOps"/>
    /// commits it to the configuration repository for Argo CD to apply (settings in the <c>GitOps</c> section, docs/gitops.md).
    /// </summary>
    public DeploymentMode Mode { get; set; } = DeploymentMode.Direct;
}

public enum DeploymentMode
{
    Direct = 0,
    GitOps = 1,
}

internal sealed class DeploymentOptionsValidator : IValidateOptions<DeploymentOptions>
{
    public ValidateOptionsResult Validate(string? name, DeploymentOptions o) => new OptionRules(DeploymentOptions.Section)
        .Check(o.Lease >= TimeSpan.FromSeconds(2), "Deployments:Lease must be at least 2 seconds.")
        .Positive(nameof(o.LeaseCheckInterval), o.LeaseCheckInterval)
        .Check(Enum.IsDefined(o.Mode), "Deployments:Mode must be Direct or GitOps.")
        .Result();
}

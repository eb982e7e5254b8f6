using DeployPortal.Web.Deployments;
using DeployPortal.Web.Slots;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.GitOps;

public static class GitOpsExtensions
{
    /// <summary>The GitOps mode's services; idle unless <c>Deployments:Mode</c> is <c>GitOps</c>.</summary>
    public static WebApplicationBuilder AddGitOps(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<GitOpsOptions, GitOpsOptionsValidator>().BindConfiguration(GitOpsOptions.Section);
        builder.Services.AddSingleton<ConfigRepository>();
        builder.Services.AddSingleton<ArgoApplications>();
        builder.Services.AddScoped<GitOpsDelivery>();
        builder.Services.AddSingleton<GitOpsHoldScaling>();
        // Sleep and wake: patches on the cluster, or in GitOps mode commits that Argo CD applies.
        builder.Services.AddSingleton<IHoldScaling>(sp => sp.GetRequiredService<IOptions<DeploymentOptions>>().Value.Mode == DeploymentMode.GitOps
            ? sp.GetRequiredService<GitOpsHoldScaling>()
            : sp.GetRequiredService<ClusterHoldScaling>());
        return builder;
    }
}

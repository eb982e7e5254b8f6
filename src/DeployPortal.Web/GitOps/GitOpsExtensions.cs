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
        return builder;
    }
}

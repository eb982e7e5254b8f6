using DeployPortal.Web.Apps;
using DeployPortal.Web.Git;
using DeployPortal.Web.GitOps;
using Hangfire;

namespace DeployPortal.Web.Deployments;

public static class DeploymentsExtensions
{
    public static WebApplicationBuilder AddDeployments(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<DeploymentOptions, DeploymentOptionsValidator>().BindConfiguration(DeploymentOptions.Section);
        builder.Services.AddOptions<AppsOptions>().BindConfiguration(AppsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddMemoryCache();
        builder.Services.AddSingleton<GitClient>();
        builder.Services.AddSingleton<BranchCatalog>();
        builder.Services.AddSingleton<AppCatalog>();
        builder.Services.AddHostedService<DemoRepository>();
        builder.Services.AddScoped<DeploymentService>();
        builder.Services.AddScoped<MyDeployments>();
        builder.Services.AddScoped<DeploymentLeases>();
        builder.Services.AddScoped<DeploymentStepLog>();
        builder.Services.AddScoped<DeploymentOutcome>();
        builder.Services.AddScoped<DeploymentPipeline>();
        builder.Services.AddScoped<DeploymentJob>();
        builder.AddGitOps();
        builder.Services.AddScoped<SlotTeardownJob>();
        builder.Services.AddScoped<DeploymentReconciler>();
        builder.Services.AddHostedService<ReconcileAtStartup>();
        builder.Services.AddHostedService<LeaseWatch>();
        return builder;
    }

    public static WebApplication MapDeploymentJobs(this WebApplication app)
    {
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<DeploymentReconciler>(DeploymentReconciler.Id, r => r.RunAsync(false, CancellationToken.None), Cron.Minutely());
        return app;
    }
}

using DeployPortal.Web.Data;
using DeployPortal.Web.Git;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Apps;

/// <summary>
/// For the embedded default: a real git repository in the data folder with a few branches, so the branch
/// catalog, the deploy form and both the success and failure paths work with nothing else installed.
/// </summary>
internal sealed class DemoRepository(IOptions<AppsOptions> options, IOptions<PortalOptions> portal, IHostEnvironment environment,
    GitClient git, ILogger<DemoRepository> logger) : IHostedService
{
    /// <summary>Branches of the demo repository; the emulator crashes images tagged <c>crash-*</c>.</summary>
    public static readonly string[] Branches = ["main", "feature/login", "feature/payment", "crash-on-start"];

    public static string PathIn(string dataPath) => Path.Combine(dataPath, "demo-repos", "shop.git");

    public static IEnumerable<AppDefinition> Apps(string repository) =>
    [
        new AppDefinition
        {
            Name = "storefront", Description = "The shop's web front end (demo)", GitRemote = repository,
            ImageRepository = "registry.example.com/shop/storefront", TagTemplate = "{branchSlug}", ContainerPort = 8080, Replicas = 2,
            Env = new() { ["ASPNETCORE_ENVIRONMENT"] = "Staging" },
        },
        new AppDefinition
        {
            Name = "payments", Description = "Payment service (demo)", GitRemote = repository,
            ImageRepository = "registry.example.com/shop/payments", TagTemplate = "{branchSlug}", ContainerPort = 8080, Replicas = 1,
        },
    ];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Demo)
        {
            return;
        }

        var repository = PathIn(portal.Value.ResolveDataPath(environment));
        if (Directory.Exists(repository))
        {
            return;
        }

        var work = Directory.CreateTempSubdirectory("deployportal-demo-").FullName;
        try
        {
            await git.RunAsync(work, cancellationToken, "init", "--quiet", "--initial-branch=main");
            foreach (var branch in Branches)
            {
                if (branch != "main")
                {
                    await git.RunAsync(work, cancellationToken, "checkout", "--quiet", "-B", branch, "main");
                }

                await File.WriteAllTextAsync(Path.Combine(work, "BRANCH.txt"), $"Demo work on {branch}\n", cancellationToken);
                await git.RunAsync(work, cancellationToken, "add", "BRANCH.txt");
                await git.RunAsync(work, cancellationToken, "-c", "user.name=DeployPortal demo", "-c", "user.email=demo@deployportal.invalid",
                    "commit", "--quiet", "-m", $"Demo commit on {branch}");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(repository)!);
            await git.RunAsync(Path.GetDirectoryName(repository)!, cancellationToken, "clone", "--quiet", "--bare", "--", work, repository);
            logger.LogInformation("Created the demo repository {Repository} with branches {Branches}", repository, string.Join(", ", Branches));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

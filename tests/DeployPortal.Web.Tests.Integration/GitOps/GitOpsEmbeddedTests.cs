using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Git;
using DeployPortal.Web.GitOps;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeployPortal.Web.Tests.GitOps;

/// <summary>The embedded default (<c>dotnet run</c>) with <c>Deployments:Mode=GitOps</c>: nothing else to set up.</summary>
public sealed class GitOpsEmbeddedTests
{
    [Fact]
    public async Task EmbeddedDefault_InGitOpsMode_CommitsToABareRepositoryInTheDataFolder_AndTheInProcessArgoCdSyncsIt()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var host = PortalHost.EmbeddedDefault(database, new Dictionary<string, string?>
        {
            ["Deployments:Mode"] = "GitOps",
            ["Cluster:Emulator:ApplicationRefreshInterval"] = "00:00:00.200",
        });
        host.Start();
        int slotId;
        await using (var db = database.Factory.CreateDbContext())
        {
            slotId = await db.Slots.OrderBy(s => s.Id).Select(s => s.Id).FirstAsync();
        }

        long id;
        using (var scope = host.Services.CreateScope())
        {
            var created = await scope.ServiceProvider.GetRequiredService<DeploymentService>().CreateAsync(TestUsers.Dana, new DeployRequest("payments", "main", slotId, "embedded"));
            Assert.True(created.Succeeded, created.Failure?.Message);
            id = created.Value!.Id;
        }

        var done = await WaitFinishedAsync(host, id);

        Assert.True(done.State == DeploymentState.Succeeded, done.FailureReason + " " + string.Join(", ", done.Steps.Select(s => $"{s.Name}: {s.Message}")));
        var remote = host.Services.GetRequiredService<ConfigRepository>().Remote;
        Assert.Equal("gitops-config.git", Path.GetFileName(remote));
        var git = new GitClient(NullLogger<GitClient>.Instance);
        Assert.Equal("true", (await git.RunAsync(remote, default, "rev-parse", "--is-bare-repository")).Trim());
        Assert.Equal((await git.RunAsync(remote, default, "rev-parse", "main")).Trim(), done.ConfigCommit);
    }

    private static async Task<DeploymentView> WaitFinishedAsync(PortalHost host, long id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(40);
        while (true)
        {
            using (var scope = host.Services.CreateScope())
            {
                if (await scope.ServiceProvider.GetRequiredService<DeploymentService>().GetAsync(id) is { IsFinished: true } finished)
                {
                    return finished;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"deployment {id} did not finish in time");
            await Task.Delay(100); // bounded poll for the outcome, not a fixed wait
        }
    }
}

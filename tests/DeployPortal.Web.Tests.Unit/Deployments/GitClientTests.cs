using DeployPortal.Web.Git;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeployPortal.Web.Tests.Deployments;

/// <summary>The real git command line against a real repository; names are data, never commands or options.</summary>
public sealed class GitClientTests : IAsyncLifetime
{
    private readonly GitClient _git = new(NullLogger<GitClient>.Instance);
    private readonly string _folder = Directory.CreateTempSubdirectory("deployportal-git-").FullName;
    private string Repo => Path.Combine(_folder, "repo");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Repo);
        await _git.RunAsync(Repo, default, "init", "--quiet", "--initial-branch=main");
        await File.WriteAllTextAsync(Path.Combine(Repo, "a.txt"), "a");
        await _git.RunAsync(Repo, default, "add", "a.txt");
        await _git.RunAsync(Repo, default, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "--quiet", "-m", "one");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ListBranches_HostileBranchNames_ComeBackVerbatim_AndRunNothing()
    {
        var marker = Path.Combine(_folder, "pwned");
        string[] hostile = ["zzz\";echo${IFS}hi;#", $"x;touch${{IFS}}{marker}", "--upload-pack=x", "feature/login"];
        foreach (var name in hostile)
        {
            // update-ref takes the ref name as data too; plain 'git branch' would refuse a leading dash.
            await _git.RunAsync(Repo, default, "update-ref", "refs/heads/" + name, "HEAD");
        }

        var branches = await _git.ListBranchesAsync(Repo, default);

        Assert.Equal(hostile.Append("main").Order(StringComparer.Ordinal), branches.Select(b => b.Name));
        Assert.All(branches, b => Assert.Matches("^[0-9a-f]{40}$", b.Commit));
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task ListBranches_RemoteThatLooksLikeAnOption_IsTreatedAsARemote_AndFails()
    {
        var marker = Path.Combine(_folder, "pwned-remote");

        var error = await Assert.ThrowsAsync<GitException>(() => _git.ListBranchesAsync($"--upload-pack=touch {marker}", default));

        Assert.Contains("ls-remote failed", error.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task ListBranches_MissingRepository_FailsWithGitsOwnReason()
    {
        var error = await Assert.ThrowsAsync<GitException>(() => _git.ListBranchesAsync(Path.Combine(_folder, "nope"), default));

        Assert.Contains("does not appear to be a git repository", error.Message);
    }
}

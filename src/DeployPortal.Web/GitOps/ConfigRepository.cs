using DeployPortal.Web.Data;
using DeployPortal.Web.Git;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.GitOps;

/// <summary>
/// The configuration repository, through the git command line: a private clone in a work folder of this process,
/// reset to the remote branch before each change, one commit per change, and a push that is rebased and tried again
/// when someone else pushed first. One change at a time in a process; several portals rely on the push being refused
/// to a stale branch. A push refused for any other reason (a hook, branch protection, credentials) fails with the
/// server's own words.
/// </summary>
internal sealed class ConfigRepository(GitClient git, IOptions<GitOpsOptions> options, IOptions<PortalOptions> portal, IHostEnvironment environment,
    ILogger<ConfigRepository> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _work = Path.Combine(Path.GetTempPath(), "deployportal-gitops-" + Guid.NewGuid().ToString("N")[..12]);
    private string? _remote;

    private GitOpsOptions Settings => options.Value;

    /// <summary>Where the portal pushes: the configured repository, or the embedded bare one in the data folder.</summary>
    public string Remote => _remote ??= Settings.Repository is { Length: > 0 } configured
        ? configured
        : Path.Combine(portal.Value.ResolveDataPath(environment), "gitops-config.git");

    /// <summary>The folder of one app in one slot, relative to the repository root, without a trailing slash.</summary>
    public string PathFor(string slot, string app) => Settings.PathTemplate.Replace("{slot}", slot).Replace("{app}", app).Trim('/');

    /// <summary>The folder of one slot: the part of the path template before <c>{app}</c>.</summary>
    public string SlotPath(string slot) => Settings.PathTemplate[..Settings.PathTemplate.IndexOf("{app}", StringComparison.Ordinal)].Replace("{slot}", slot).Trim('/');

    /// <summary>
    /// Makes one change in a fresh checkout of the branch, commits it with <paramref name="message"/> and pushes it.
    /// <paramref name="change"/> edits files under the work folder it is given. Answers the commit that holds the change
    /// (the branch's head when the change made no difference), or null when there was nothing to change at all.
    /// </summary>
    public Task<string?> CommitAsync(Func<string, Task> change, string message, CancellationToken ct) => CommitAsync(change, () => message, ct);

    /// <summary>As <see cref="CommitAsync(Func{string, Task}, string, CancellationToken)"/>, with a message written after the change (naming what it changed).</summary>
    public async Task<string?> CommitAsync(Func<string, Task> change, Func<string> message, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await EnsureCloneAsync(ct);
            var hasBranch = await CheckoutBranchAsync(ct);
            await change(_work);
            await RunAsync(ct, "add", "--all");
            if ((await RunAsync(ct, "status", "--porcelain")).Trim().Length == 0)
            {
                return hasBranch ? (await RunAsync(ct, "rev-parse", "HEAD")).Trim() : null;
            }

            await CommitStagedAsync(message(), ct);
            await PushAsync(ct);
            return (await RunAsync(ct, "rev-parse", "HEAD")).Trim();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Puts <paramref name="path"/> back as it was before <paramref name="commit"/> (removes it when it did not exist then),
    /// as a new commit with <paramref name="message"/>, but only while <paramref name="commit"/> is still the last change of
    /// that folder on the branch: a later change by anyone else stands. Answers the new commit, or null when nothing was reverted.
    /// </summary>
    public async Task<string?> RevertPathAsync(string path, string commit, string message, CancellationToken ct)
    {
        var reverted = false;
        var sha = await CommitAsync(async work =>
        {
            if ((await RunAsync(ct, "log", "-1", "--format=%H", "--", path)).Trim() != commit)
            {
                return;
            }

            await RunAsync(ct, "rm", "-r", "--quiet", "--ignore-unmatch", "--", path);
            if ((await git.TryRunAsync(work, null, ct, "rev-parse", "--verify", "--quiet", commit + "^")).ExitCode == 0)
            {
                // Fails (and leaves the folder removed) when the folder did not exist before the commit.
                await git.TryRunAsync(work, null, ct, "checkout", commit + "^", "--", path);
            }

            reverted = true;
        }, message, ct);
        return reverted ? sha : null;
    }

    /// <summary>True when <paramref name="revision"/> (a commit Argo CD reports) is <paramref name="commit"/> or came after it on the branch.</summary>
    public async Task<bool> IncludesAsync(string revision, string commit, CancellationToken ct)
    {
        if (revision == commit)
        {
            return true;
        }

        await _gate.WaitAsync(ct);
        try
        {
            await EnsureCloneAsync(ct);
            await git.TryRunAsync(_work, Environment(), ct, "fetch", "--quiet", "origin");
            return (await git.TryRunAsync(_work, null, ct, "merge-base", "--is-ancestor", commit, revision)).ExitCode == 0;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task EnsureCloneAsync(CancellationToken ct)
    {
        if (Directory.Exists(Path.Combine(_work, ".git")))
        {
            return;
        }

        if (Settings.Repository.Length == 0 && !Directory.Exists(Remote))
        {
            Directory.CreateDirectory(Remote);
            await git.RunAsync(Remote, ct, "init", "--quiet", "--bare", "--initial-branch=" + Settings.Branch);
            logger.LogInformation("Created the embedded GitOps configuration repository at {Path}", Remote);
        }

        Directory.CreateDirectory(_work);
        await git.RunAsync(_work, ct, "init", "--quiet");
        await git.RunAsync(_work, ct, "remote", "add", "origin", "--", Remote);
    }

    /// <summary>A clean checkout of the remote branch; false when the branch does not exist yet (an empty repository).</summary>
    private async Task<bool> CheckoutBranchAsync(CancellationToken ct)
    {
        await RunAsync(ct, "fetch", "--quiet", "--prune", "origin");
        var remoteBranch = "refs/remotes/origin/" + Settings.Branch;
        var exists = (await git.TryRunAsync(_work, null, ct, "rev-parse", "--verify", "--quiet", remoteBranch)).ExitCode == 0;
        if (exists)
        {
            await RunAsync(ct, "checkout", "--quiet", "--force", "-B", Settings.Branch, remoteBranch);
        }
        else
        {
            await RunAsync(ct, "checkout", "--quiet", "--force", "--orphan", Settings.Branch);
            await git.TryRunAsync(_work, null, ct, "rm", "-r", "--quiet", "--cached", "--ignore-unmatch", ".");
        }

        await RunAsync(ct, "clean", "--quiet", "-d", "--force", "-x");
        return exists;
    }

    private async Task PushAsync(CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var push = await git.TryRunAsync(_work, Environment(), ct, "push", "--porcelain", "origin", $"HEAD:refs/heads/{Settings.Branch}");
            if (push.ExitCode == 0)
            {
                return;
            }

            var stale = push.Output.Contains("[rejected]", StringComparison.Ordinal) && (push.Output.Contains("fetch first", StringComparison.Ordinal)
                || push.Output.Contains("non-fast-forward", StringComparison.Ordinal));
            if (!stale)
            {
                throw new GitException(PushRefusal(push));
            }

            if (attempt >= Settings.PushAttempts)
            {
                throw new GitException($"The configuration repository's {Settings.Branch} kept moving: the push was refused as out of date {attempt} times.");
            }

            logger.LogInformation("Push to the configuration repository was out of date (attempt {Attempt}); rebasing", attempt);
            await RunAsync(ct, "fetch", "--quiet", "origin");
            var rebase = await git.TryRunAsync(_work, Committer(), ct, "rebase", "--quiet", "origin/" + Settings.Branch);
            if (rebase.ExitCode != 0)
            {
                await git.TryRunAsync(_work, null, ct, "rebase", "--abort");
                throw new GitException($"Someone else changed the same files in the configuration repository at the same time: {rebase.Output.Trim().Split('\n')[0]}");
            }
        }
    }

    /// <summary>The server's reason, as its hooks and git print it: the <c>remote:</c> lines, then the refused ref's reason.</summary>
    private static string PushRefusal(GitResult push)
    {
        var remote = push.Error.Split('\n').Where(l => l.StartsWith("remote:", StringComparison.Ordinal))
            .Select(l => l["remote:".Length..].Trim()).Where(l => l.Length > 0).ToList();
        var refLine = push.Output.Split('\n').FirstOrDefault(l => l.StartsWith('!'));
        // Porcelain: "!<TAB>HEAD:refs/heads/main<TAB>[remote rejected] (pre-receive hook declined)"; the reason is in the parentheses.
        var summary = refLine is null ? null : refLine[(refLine.LastIndexOf('\t') + 1)..].Trim();
        var reason = summary is not null && summary.IndexOf('(', StringComparison.Ordinal) is >= 0 and var open && summary.EndsWith(')')
            ? summary[(open + 1)..^1]
            : summary;
        var said = string.Join(" ", remote);
        return (said, reason) switch
        {
            ({ Length: > 0 }, { Length: > 0 }) => $"The configuration repository refused the push: {said} ({reason})",
            ({ Length: > 0 }, _) => $"The configuration repository refused the push: {said}",
            (_, { Length: > 0 }) => $"The configuration repository refused the push ({reason})",
            _ => $"The configuration repository refused the push: {push.Error.Trim().Split('\n')[0]}",
        };
    }

    private Task<string> RunAsync(CancellationToken ct, params string[] arguments) => git.RunAsync(_work, ct, arguments);

    /// <summary>Commits what is staged; the message goes through a file, so no part of it can be read as an option.</summary>
    private async Task CommitStagedAsync(string message, CancellationToken ct)
    {
        var file = Path.Combine(_work, ".git", "DEPLOYPORTAL_MSG");
        await File.WriteAllTextAsync(file, message, ct);
        var result = await git.TryRunAsync(_work, Committer(), ct, "commit", "--quiet", "--no-verify", "--file", file);
        if (result.ExitCode != 0)
        {
            throw new GitException($"git commit failed: {result.Error.Trim().Split('\n')[0]}");
        }
    }

    private Dictionary<string, string> Committer() => new()
    {
        ["GIT_AUTHOR_NAME"] = Settings.AuthorName,
        ["GIT_AUTHOR_EMAIL"] = Settings.AuthorEmail,
        ["GIT_COMMITTER_NAME"] = Settings.AuthorName,
        ["GIT_COMMITTER_EMAIL"] = Settings.AuthorEmail,
    };

    /// <summary>Push credentials as environment-only git settings, so no token or key path is written into the clone.</summary>
    private Dictionary<string, string> Environment()
    {
        var settings = new List<(string Key, string Value)>();
        if (Settings.HttpsToken is { Length: > 0 } token)
        {
            var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Settings.TokenUser}:{token}"));
            settings.Add(("http.extraHeader", "Authorization: Basic " + basic));
        }

        if (Settings.SshKeyPath is { Length: > 0 } key)
        {
            var knownHosts = Settings.SshKnownHostsPath is { Length: > 0 } hosts ? $" -o UserKnownHostsFile={Quote(hosts)}" : "";
            settings.Add(("core.sshCommand", $"ssh -i {Quote(key)} -o IdentitiesOnly=yes -o BatchMode=yes{knownHosts}"));
        }

        var env = new Dictionary<string, string> { ["GIT_CONFIG_COUNT"] = settings.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        for (var i = 0; i < settings.Count; i++)
        {
            env[$"GIT_CONFIG_KEY_{i}"] = settings[i].Key;
            env[$"GIT_CONFIG_VALUE_{i}"] = settings[i].Value;
        }

        return env;
    }

    /// <summary>A path as one shell word (git runs core.sshCommand through the shell).</summary>
    private static string Quote(string path) => $"'{path.Replace("'", "'\\''", StringComparison.Ordinal)}'";

    public void Dispose()
    {
        _gate.Dispose();
        try
        {
            if (Directory.Exists(_work))
            {
                Directory.Delete(_work, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

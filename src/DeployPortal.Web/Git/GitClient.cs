using System.Diagnostics;

namespace DeployPortal.Web.Git;

/// <summary>A git remote said no, or did not answer; the message is fit to show a person.</summary>
internal sealed class GitException(string message) : Exception(message);

internal sealed record RemoteBranch(string Name, string Commit);

/// <summary>How one git command ended: its exit code and what it wrote.</summary>
internal sealed record GitResult(int ExitCode, string Output, string Error);

/// <summary>
/// Runs the git command line with an argument list, never a shell string, so names are data: nothing a
/// branch or remote is called can become a command or an option.
/// </summary>
internal sealed class GitClient(ILogger<GitClient> logger)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The branches of a remote (<c>git ls-remote --heads</c>), sorted by name.</summary>
    public async Task<IReadOnlyList<RemoteBranch>> ListBranchesAsync(string remote, CancellationToken ct)
    {
        // --end-of-options: a remote such as "--upload-pack=x" stays a remote, not an option.
        var output = await RunAsync(null, ct, "ls-remote", "--heads", "--end-of-options", remote);
        var branches = new List<RemoteBranch>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split('\t');
            if (parts.Length == 2 && parts[1].StartsWith("refs/heads/", StringComparison.Ordinal))
            {
                branches.Add(new RemoteBranch(parts[1]["refs/heads/".Length..], parts[0].Trim()));
            }
        }

        return [.. branches.OrderBy(b => b.Name, StringComparer.Ordinal)];
    }

    public async Task<string> RunAsync(string? workingDirectory, CancellationToken ct, params string[] arguments)
    {
        var result = await TryRunAsync(workingDirectory, null, ct, arguments);
        if (result.ExitCode != 0)
        {
            var error = result.Error.Trim();
            logger.LogWarning("git {Command} failed ({Code}): {Error}", arguments[0], result.ExitCode, error);
            throw new GitException(FirstLine(error) is { Length: > 0 } first ? $"git {arguments[0]} failed: {first}" : $"git {arguments[0]} failed.");
        }

        return result.Output;
    }

    /// <summary>
    /// Runs git and answers its exit code and both outputs without judging them (for callers that act on how a command
    /// failed, such as a push rejected as non-fast-forward). <paramref name="environment"/> adds variables, e.g. the
    /// committer or <c>GIT_CONFIG_*</c> settings that must not be written to disk. Throws only when git does not answer.
    /// </summary>
    public async Task<GitResult> TryRunAsync(string? workingDirectory, IReadOnlyDictionary<string, string>? environment, CancellationToken ct, params string[] arguments)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Never wait for a password prompt or an editor.
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_ASKPASS"] = "echo";
        start.Environment["LC_ALL"] = "C";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        using var process = Process.Start(start) ?? throw new GitException("git could not be started.");
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (ct.IsCancellationRequested)
            {
                throw;
            }

            throw new GitException($"git {arguments[0]} did not answer within {Timeout.TotalSeconds:0} s.");
        }

        return new GitResult(process.ExitCode, await stdout, await stderr);
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}

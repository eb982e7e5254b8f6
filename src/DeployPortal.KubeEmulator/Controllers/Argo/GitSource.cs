using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace DeployPortal.KubeEmulator.Controllers.Argo;

/// <summary>The repository could not be read at the wanted revision; the message is git's own.</summary>
internal sealed class SourceException(string message) : Exception(message);

/// <summary>
/// What Argo CD's repo-server does for plain-manifest sources, with the git command line: a mirror clone of each
/// repository (fetched again on every refresh), a revision resolved to a commit, and the manifest files under a path
/// at that commit. Arguments are passed as a list, never through a shell.
/// </summary>
internal sealed class GitSource : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _cache = Directory.CreateTempSubdirectory("kube-emulator-argo-").FullName;

    /// <summary>Fetches <paramref name="repoUrl"/> and resolves <paramref name="revision"/> (a branch, tag, sha or HEAD) to a commit.</summary>
    public async Task<string> ResolveAsync(string repoUrl, string revision, CancellationToken ct)
    {
        var mirror = Path.Combine(_cache, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(repoUrl)))[..16]);
        if (Directory.Exists(mirror))
        {
            await RunAsync(mirror, ct, "fetch", "--quiet", "--prune", "origin");
        }
        else
        {
            await RunAsync(_cache, ct, "clone", "--quiet", "--mirror", "--end-of-options", repoUrl, mirror);
        }

        var rev = string.IsNullOrEmpty(revision) ? "HEAD" : revision;
        try
        {
            return (await RunAsync(mirror, ct, "rev-parse", "--verify", "--end-of-options", rev + "^{commit}")).Trim();
        }
        catch (SourceException)
        {
            throw new SourceException($"unable to resolve '{rev}' to a commit SHA");
        }
    }

    /// <summary>The manifest files (.yaml, .yml, .json) under <paramref name="path"/> at <paramref name="commit"/>; none when the path does not exist there.</summary>
    public async Task<IReadOnlyList<(string Name, string Text)>> FilesAsync(string repoUrl, string commit, string path, CancellationToken ct)
    {
        var mirror = Path.Combine(_cache, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(repoUrl)))[..16]);
        var dir = path.Trim('/');
        var names = await RunAsync(mirror, ct, "ls-tree", "-r", "--name-only", commit, "--", dir.Length == 0 ? "." : dir + "/");
        var files = new List<(string, string)>();
        foreach (var name in names.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal))
        {
            if (name.EndsWith(".yaml", StringComparison.Ordinal) || name.EndsWith(".yml", StringComparison.Ordinal) || name.EndsWith(".json", StringComparison.Ordinal))
            {
                files.Add((name, await RunAsync(mirror, ct, "show", $"{commit}:{name}")));
            }
        }

        return files;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_cache, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<string> RunAsync(string workingDirectory, CancellationToken ct, params string[] arguments)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["LC_ALL"] = "C";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        using var process = Process.Start(start) ?? throw new SourceException("git could not be started");
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw ct.IsCancellationRequested ? new OperationCanceledException(ct) : new SourceException($"git {arguments[0]} timed out");
        }

        if (process.ExitCode != 0)
        {
            throw new SourceException((await stderr.ConfigureAwait(false)).Trim().Split('\n')[0]);
        }

        return await stdout.ConfigureAwait(false);
    }
}

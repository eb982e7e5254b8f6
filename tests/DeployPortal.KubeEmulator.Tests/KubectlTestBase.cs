using System.Diagnostics;

namespace DeployPortal.KubeEmulator.Tests;

/// <summary>Runs the stock kubectl (/usr/bin/kubectl) against the test's emulator with --server and a private HOME.</summary>
public abstract class KubectlTestBase : EmulatorTestBase, IDisposable
{
    private const string Kubectl = "/usr/bin/kubectl";
    private readonly string _home = Directory.CreateTempSubdirectory("kubectl-home-").FullName;

    protected KubectlTestBase() : base(o => o.LogLinesPerSecond = 50) { }

    /// <summary>A private folder for the test's files (manifests, editor scripts), removed afterwards.</summary>
    protected string Home => _home;

    public void Dispose()
    {
        Directory.Delete(_home, recursive: true);
        GC.SuppressFinalize(this);
    }

    private ProcessStartInfo Start(params string[] args)
    {
        var psi = new ProcessStartInfo(Kubectl) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("--server");
        psi.ArgumentList.Add(Server.BaseAddress.ToString().TrimEnd('/'));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = _home;          // a private discovery cache
        psi.Environment["KUBECONFIG"] = Path.Combine(_home, "none");
        return psi;
    }

    protected Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => RunWithAsync(null, args);

    /// <summary>Runs kubectl to its end; <paramref name="environment"/> adds variables (such as KUBE_EDITOR).</summary>
    protected async Task<(int Exit, string Out, string Err)> RunWithAsync(IDictionary<string, string>? environment, params string[] args)
    {
        var psi = Start(args);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { p.Kill(entireProcessTree: true); throw new TimeoutException($"kubectl {string.Join(' ', args)} did not exit"); }
        return (p.ExitCode, await stdout, await stderr);
    }

    protected async Task<string> OkAsync(params string[] args)
    {
        var (exit, stdout, stderr) = await RunAsync(args);
        Assert.True(exit == 0, $"kubectl {string.Join(' ', args)} exited {exit}: {stderr}");
        return stdout;
    }

    /// <summary>Runs a long-lived kubectl (get -w, logs -f) until a line matches, then stops that process.</summary>
    protected async Task<List<string>> StreamUntilAsync(Func<string, bool> done, Func<Task>? afterStart, params string[] args)
    {
        using var p = Process.Start(Start(args))!;
        var lines = new List<string>();
        try
        {
            if (afterStart is not null)
            {
                await afterStart();
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (await p.StandardOutput.ReadLineAsync(cts.Token) is { } line)
            {
                lines.Add(line);
                if (done(line))
                {
                    return lines;
                }
            }
            throw new InvalidOperationException($"kubectl {string.Join(' ', args)} ended early: {await p.StandardError.ReadToEndAsync()}\n{string.Join('\n', lines)}");
        }
        finally
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
            }
        }
    }
}

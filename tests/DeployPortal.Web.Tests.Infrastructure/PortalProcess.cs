using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// The portal as its own operating-system process (<c>dotnet DeployPortal.Web.dll</c>, as the container runs it),
/// so a test can kill it (SIGKILL) or stop it (SIGTERM) the way a node or an orchestrator does. Settings go in as
/// environment variables; everything it prints is kept.
/// </summary>
public sealed partial class PortalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _dataPath = Directory.CreateTempSubdirectory("deployportal-process-").FullName;

    private PortalProcess(IReadOnlyDictionary<string, string?> settings)
    {
        var dll = Locate();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        info.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        info.Environment["Portal__DataPath"] = _dataPath;
        info.Environment["Auth__DevSignIn__Enabled"] = "true";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    /// <summary>Everything the process printed so far, in order.</summary>
    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the portal and waits until Kestrel listens.</summary>
    public static async Task<PortalProcess> StartAsync(IReadOnlyDictionary<string, string?> settings, TimeSpan? timeout = null)
    {
        var portal = new PortalProcess(settings);
        try
        {
            await portal._listening.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(90));
            return portal;
        }
        catch (TimeoutException)
        {
            await portal.DisposeAsync();
            throw new TimeoutException("The portal process did not start listening:\n" + portal.Output);
        }
    }

    public Task<Uri> Address => _listening.Task;

    /// <summary>SIGKILL: the process is gone at once, with no chance to clean up (kill -9, a lost node).</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as <c>docker stop</c> and Kubernetes send it before the grace period ends.</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString() }, UseShellExecute = false })!;
        kill.WaitForExit();
    }

    public Task WaitForExitAsync(CancellationToken ct) => _process.WaitForExitAsync(ct);

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        if (ListeningLine().Match(line) is { Success: true } m)
        {
            _listening.TrySetResult(new Uri(m.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    private static string Locate()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = here.Name;              // net10.0
        var configuration = here.Parent!.Name;  // Release or Debug
        var root = here.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(root, "src", "DeployPortal.Web", "bin", configuration, framework, "DeployPortal.Web.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build src/DeployPortal.Web first ({dll} is missing).");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_dataPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

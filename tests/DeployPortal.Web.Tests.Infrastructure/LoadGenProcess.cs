using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// The circuit load generator (<c>tests/DeployPortal.LoadGen</c>) as a child process: its own process so the
/// portal's memory is measured without the generator's, and the generator's CPU use can be reported.
/// Replies are the generator's <c>@kind {json}</c> lines; everything else it prints is kept for diagnosis.
/// </summary>
public sealed class LoadGenProcess : IAsyncDisposable
{
    /// <summary>Slot-change subscriptions one open board holds (the board passes changes on to its queue panel).</summary>
    public const int SubscriptionsPerBoard = 1;

    private readonly Process _process;
    private readonly Channel<(string Kind, JsonElement Body)> _replies = Channel.CreateUnbounded<(string, JsonElement)>();
    private readonly Queue<string> _log = new();

    private LoadGenProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    /// <summary>CPU time the generator has used so far (user + system).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.HasExited ? TimeSpan.Zero : _process.TotalProcessorTime;
        }
    }

    /// <summary>Starts the generator; it signs in as <paramref name="user"/> and opens <paramref name="circuits"/> board circuits.</summary>
    public static LoadGenProcess Start(Uri portal, int circuits, int concurrency = 16, string user = "viewer", int openTimeoutSeconds = 180)
    {
        var dll = Locate();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "--url", portal.ToString(), "--user", user, "--circuits", circuits.ToString(), "--concurrency", concurrency.ToString(), "--open-timeout", openTimeoutSeconds.ToString() })
        {
            info.ArgumentList.Add(arg);
        }

        return new LoadGenProcess(Process.Start(info)!);
    }

    /// <summary>Waits for the reply of the given kind (earlier replies of other kinds are skipped).</summary>
    public async Task<JsonElement> ReplyAsync(string kind, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var (k, body) = await _replies.Reader.ReadAsync(cts.Token);
                if (k == kind)
                {
                    return body;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException($"The load generator sent no '{kind}' within {timeout} (exited: {_process.HasExited}). Its last output:\n{Log}");
        }
    }

    public async Task<JsonElement> CommandAsync(string line, string replyKind, TimeSpan timeout)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
        return await ReplyAsync(replyKind, timeout);
    }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return string.Join('\n', _log);
            }
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _replies.Writer.TryComplete();
            return;
        }

        if (line.StartsWith('@') && line.IndexOf(' ') is var space and > 1)
        {
            _replies.Writer.TryWrite((line[1..space], JsonDocument.Parse(line[(space + 1)..]).RootElement.Clone()));
            return;
        }

        lock (_log)
        {
            _log.Enqueue(line);
            if (_log.Count > 50)
            {
                _log.Dequeue();
            }
        }
    }

    /// <summary>Closes its circuits (telling the server, as a closing tab does) and waits for it to exit; kills it if it hangs.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                await CommandAsync("quit", "bye", TimeSpan.FromMinutes(2));
                await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or IOException or InvalidOperationException)
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
        }

        _process.Dispose();
    }

    /// <summary>The generator is built next to this test project (the project reference only orders the build).</summary>
    private static string Locate()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = here.Name;              // net10.0
        var configuration = here.Parent!.Name;  // Release or Debug
        var tests = here.Parent.Parent!.Parent!.Parent!.FullName; // tests/
        var dll = Path.Combine(tests, "DeployPortal.LoadGen", "bin", configuration, framework, "DeployPortal.LoadGen.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build tests/DeployPortal.LoadGen first ({dll} is missing).");
    }
}

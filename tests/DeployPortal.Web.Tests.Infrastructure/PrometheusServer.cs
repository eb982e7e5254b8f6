using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// Debian's <c>prometheus</c> on a free loopback port, scraping one target every second, with its storage in a temp
/// folder. tests/lib/test-env.sh installs the package; the process is stopped by its id.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Binary = "/usr/bin/prometheus";
    private readonly Process _process;
    private readonly string _folder;
    private readonly StringBuilder _output = new();
    private readonly HttpClient _http;

    private PrometheusServer(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Url = new Uri($"http://127.0.0.1:{port}/");
        _http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri Url { get; }

    /// <param name="target">What to scrape (<c>/metrics</c> at this address), e.g. the emulator's base address.</param>
    public static async Task<PrometheusServer> StartAsync(Uri target)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: tests/run.sh installs Debian's prometheus package.");
        }

        var folder = Directory.CreateTempSubdirectory("deployportal-prometheus-").FullName;
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: emulator
                static_configs:
                  - targets: ['{target.Authority}']
            """);
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var info = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add($"--config.file={config}");
            info.ArgumentList.Add($"--storage.tsdb.path={Path.Combine(folder, "data")}");
            info.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
            var server = new PrometheusServer(Process.Start(info)!, folder, port);
            server._process.OutputDataReceived += (_, e) => server.Log(e.Data);
            server._process.ErrorDataReceived += (_, e) => server.Log(e.Data);
            server._process.BeginOutputReadLine();
            server._process.BeginErrorReadLine();
            if (await server.WaitUntilReadyAsync())
            {
                return server;
            }

            await server.StopAsync();
            if (attempt == 3)
            {
                throw new InvalidOperationException($"prometheus did not start: {server.Output}");
            }
        }
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The value of an instant query's first series; null when the result is empty.</summary>
    public async Task<double?> QueryAsync(string promql)
    {
        using var response = await _http.GetAsync("api/v1/query?query=" + Uri.EscapeDataString(promql));
        response.EnsureSuccessStatusCode();
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var result = answer.RootElement.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 0 ? null : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>Polls <paramref name="promql"/> until its value satisfies <paramref name="condition"/> (scrapes are every second).</summary>
    public async Task WaitForAsync(string promql, Func<double, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        double? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await QueryAsync(promql);
            if (last is { } value && condition(value))
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Prometheus never answered {promql} as expected (last: {last?.ToString(CultureInfo.InvariantCulture) ?? "no series"}). {Output}");
    }

    /// <summary>Stops the server by its process id (as a crashed Prometheus would vanish).</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _http.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<bool> WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var response = await probe.GetAsync(new Uri(Url, "-/ready"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        return false;
    }

    private void Log(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace DeployPortal.KubeEmulator;

/// <summary>
/// <c>--bench</c> mode of the host: starts an emulator on 127.0.0.1 and measures, from HTTP clients in the same
/// process, log lines per second streamed to 1 and to 50 followers, and list/get requests per second.
/// Options: <c>--rate N</c> (log lines/s per container, default 50000), <c>--seconds N</c> (per phase, default 5).
/// </summary>
internal static class Benchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rate = Arg(args, "--rate", 50_000);
        var seconds = Arg(args, "--seconds", 5);
        var options = new EmulatorOptions
        {
            PodPendingDelay = TimeSpan.FromMilliseconds(50),
            ContainerCreatingDelay = TimeSpan.FromMilliseconds(50),
            ReadyDelay = TimeSpan.FromMilliseconds(50),
            LogLinesPerSecond = rate,
            LogBufferLines = 500_000,
            LogTick = TimeSpan.FromMilliseconds(10),
        };
        await using var server = await EmulatorServer.StartAsync(options);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        Console.WriteLine($"emulator {server.BaseAddress} | {Environment.ProcessorCount} cores | generator {rate:N0} lines/s per container | {seconds}s per phase");

        var manifest = """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bench"},"spec":{"replicas":1,
             "selector":{"matchLabels":{"app":"bench"}},"template":{"metadata":{"labels":{"app":"bench"}},
             "spec":{"containers":[{"name":"app","image":"registry.example/bench:1.0"}]}}}}
            """;
        using (var content = new StringContent(manifest, Encoding.UTF8))
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/apply-patch+yaml");
            (await http.PatchAsync("apis/apps/v1/namespaces/default/deployments/bench?fieldManager=bench", content)).EnsureSuccessStatusCode();
        }
        string? pod = null;
        var deadline = Stopwatch.StartNew();
        while (pod is null && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            var list = await http.GetStringAsync("api/v1/namespaces/default/pods?labelSelector=app%3Dbench");
            using var doc = System.Text.Json.JsonDocument.Parse(list);
            foreach (var item in doc.RootElement.GetProperty("items").EnumerateArray())
            {
                if (item.GetProperty("status").TryGetProperty("conditions", out var conds) &&
                    conds.EnumerateArray().Any(c => c.GetProperty("type").GetString() == "Ready" && c.GetProperty("status").GetString() == "True"))
                {
                    pod = item.GetProperty("metadata").GetProperty("name").GetString();
                }
            }

            if (pod is null)
            {
                await Task.Delay(50);
            }
        }
        if (pod is null)
        { Console.Error.WriteLine("pod did not become ready"); return 1; }
        var logUrl = $"api/v1/namespaces/default/pods/{pod}/log?follow=true&tailLines=0";

        var one = await FollowAsync(http, logUrl, 1, seconds);
        Console.WriteLine($"follow, 1 follower:   {one.Total / one.Seconds,12:N0} lines/s received");
        var fifty = await FollowAsync(http, logUrl, 50, seconds);
        Console.WriteLine($"follow, 50 followers: {fifty.Total / fifty.Seconds,12:N0} lines/s in total ({fifty.MinPerFollower / fifty.Seconds:N0} lines/s for the slowest follower)");

        var sw = Stopwatch.StartNew();
        long dump = 0;
        await using (var s = await http.GetStreamAsync($"api/v1/namespaces/default/pods/{pod}/log?tailLines=400000"))
        {
            dump = await CountLinesAsync(s, CancellationToken.None);
        }

        Console.WriteLine($"non-follow dump:      {dump / sw.Elapsed.TotalSeconds,12:N0} lines/s ({dump:N0} buffered lines read back)");

        options.LogLinesPerSecond = 1; // quiet the generator for the request benchmark
        for (var i = 0; i < 100; i++)
        {
            using var c = new StringContent($"{{\"metadata\":{{\"name\":\"cm-{i}\",\"labels\":{{\"bench\":\"true\"}}}},\"data\":{{\"k\":\"{new string('x', 200)}\"}}}}", Encoding.UTF8, "application/json");
            (await http.PostAsync("api/v1/namespaces/default/configmaps", c)).EnsureSuccessStatusCode();
        }
        var get = await RequestsAsync(http, "api/v1/namespaces/default/configmaps/cm-42", 16, seconds);
        Console.WriteLine($"get configmap:        {get,12:N0} requests/s (16 concurrent clients)");
        var list1 = await RequestsAsync(http, "api/v1/namespaces/default/pods", 16, seconds);
        Console.WriteLine($"list pods (1 item):   {list1,12:N0} requests/s (16 concurrent clients)");
        var list100 = await RequestsAsync(http, "api/v1/namespaces/default/configmaps?labelSelector=bench%3Dtrue", 16, seconds);
        Console.WriteLine($"list 100 configmaps:  {list100,12:N0} requests/s (16 concurrent clients, label selector)");
        return 0;
    }

    private static async Task<(long Total, long MinPerFollower, double Seconds)> FollowAsync(HttpClient http, string url, int followers, int seconds)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var sw = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, followers).Select(async _ =>
        {
            try
            {
                using var resp = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cts.Token);
                await using var s = await resp.Content.ReadAsStreamAsync(cts.Token);
                return await CountLinesAsync(s, cts.Token);
            }
            catch (OperationCanceledException) { return 0L; }
        }));
        return (counts.Sum(), counts.Min(), sw.Elapsed.TotalSeconds);
    }

    private static async Task<long> CountLinesAsync(Stream s, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        long lines = 0;
        try
        {
            int n;
            while ((n = await s.ReadAsync(buffer, ct)) > 0)
            {
                lines += buffer.AsSpan(0, n).Count((byte)'\n');
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        return lines;
    }

    private static async Task<double> RequestsAsync(HttpClient http, string url, int concurrency, int seconds)
    {
        var sw = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(seconds);
        var counts = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            long n = 0;
            while (sw.Elapsed < end)
            {
                using var resp = await http.GetAsync(url);
                await resp.Content.CopyToAsync(Stream.Null);
                resp.EnsureSuccessStatusCode();
                n++;
            }
            return n;
        }));
        return counts.Sum() / sw.Elapsed.TotalSeconds;
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var v) ? v : fallback;
    }
}

using System.Collections.Concurrent;
using System.Globalization;

namespace DeployPortal.KubeEmulator.Logs;

/// <summary>
/// Keeps each container's log (current and previous run) and, for every running container, writes believable
/// lines at <see cref="EmulatorOptions.LogLinesPerSecond"/>: a start-up banner, request lines, occasional warnings
/// and errors, sometimes ANSI-coloured. High rates are written in batches per <see cref="EmulatorOptions.LogTick"/>.
/// </summary>
internal sealed class PodLogWriter : IAsyncDisposable
{
    private readonly EmulatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(string PodUid, string Container), ContainerLog> _logs = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public PodLogWriter(EmulatorOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _loop = Task.Run(RunAsync);
    }

    internal sealed class ContainerLog
    {
        public LogBuffer? Current;
        public LogBuffer? Previous;
        public bool Running;
        public string Style = "app";
        public string App = "app";
        public string Version = "1.0.0";
        public long StartNanos;
        public long Generated;
        public long Counter;
        public long LastAppendNanos;
    }

    public long NowNanos => (_time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) * 100;

    public ContainerLog? Find(string podUid, string container) => _logs.GetValueOrDefault((podUid, container));

    /// <summary>A container (re)starts: the current run becomes "previous" and a new buffer begins with a banner.</summary>
    public void Start(string podUid, string container, string image, bool neverReady)
    {
        var log = _logs.GetOrAdd((podUid, container), _ => new ContainerLog());
        lock (log)
        {
            log.Current?.Close();
            log.Previous = log.Current ?? log.Previous;
            log.Current = new LogBuffer(_options.LogBufferLines, _options.LogTimestampResolution);
            var (app, version) = Describe(image);
            log.App = app;
            log.Version = version;
            log.Style = image.Contains("nginx", StringComparison.OrdinalIgnoreCase) ? "nginx" : "app";
            log.StartNanos = log.LastAppendNanos = NowNanos;
            log.Generated = 0;
            log.Running = true;
            var banner = log.Style == "nginx"
                ? new List<string>
                {
                    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
                    "/docker-entrypoint.sh: Configuration complete; ready for start up",
                    $"{Stamp()} [notice] 1#1: using the \"epoll\" event method",
                    $"{Stamp()} [notice] 1#1: nginx/{version}",
                    $"{Stamp()} [notice] 1#1: start worker processes",
                }
                : new List<string>
                {
                    $"\u001b[1mStarting {app} {version}\u001b[0m (pid 1, container {container})",
                    "info: Microsoft.Hosting.Lifetime[14]",
                    "      Now listening on: http://[::]:8080",
                    "info: Microsoft.Hosting.Lifetime[0]",
                    "      Application started. Press Ctrl+C to shut down.",
                    "info: Microsoft.Hosting.Lifetime[0]",
                    "      Hosting environment: Production",
                };
            if (neverReady)
            {
                banner.Add("\u001b[33mwarn\u001b[0m: Readiness[0] dependency \"postgres:5432\" is unreachable; reporting not ready");
            }

            log.Current.Append(NowNanos, banner);
        }
    }

    /// <summary>A container exits: write its last words and close the buffer (followers of it end).</summary>
    public void Stop(string podUid, string container, bool crashed)
    {
        if (!_logs.TryGetValue((podUid, container), out var log))
        {
            return;
        }

        lock (log)
        {
            log.Running = false;
            if (crashed)
            {
                log.Current?.Append(NowNanos,
                [
                    "\u001b[41m\u001b[30mfail\u001b[39m\u001b[22m\u001b[49m: Microsoft.Extensions.Hosting.Internal.Host[11]",
                    "      Hosting failed to start",
                    "Unhandled exception. System.InvalidOperationException: Configuration value 'ConnectionStrings:Default' is missing.",
                    $"   at {log.App.Replace('-', '_')}.Startup.ConfigureDatabase(IServiceCollection services) in /src/Startup.cs:line 42",
                    "   at Program.<Main>$(String[] args) in /src/Program.cs:line 17",
                ]);
            }

            log.Current?.Close();
        }
    }

    public void RemovePod(string podUid)
    {
        foreach (var key in _logs.Keys.Where(k => k.PodUid == podUid).ToList())
        {
            if (_logs.TryRemove(key, out var log))
            {
                lock (log)
                { log.Running = false; log.Current?.Close(); log.Previous?.Close(); }
            }
        }
    }

    /// <summary>Simulates log rotation for a pod's containers: old lines are dropped and followers are closed.</summary>
    public int Rotate(string podUid)
    {
        var n = 0;
        foreach (var (key, log) in _logs)
        {
            if (key.PodUid == podUid)
            { log.Current?.Rotate(); n++; }
        }

        return n;
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(_options.LogTick, _time);
        var batch = new List<string>();
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var now = NowNanos;
                var rate = _options.LogLinesPerSecond;
                if (rate <= 0)
                {
                    continue;
                }

                foreach (var log in _logs.Values)
                {
                    lock (log)
                    {
                        if (!log.Running || log.Current is null)
                        {
                            continue;
                        }

                        var due = (long)((now - log.StartNanos) / 1e9 * rate) - log.Generated;
                        if (due <= 0)
                        {
                            continue;
                        }
                        // Never fall further behind than one second of lines (e.g. after a pause).
                        if (due > Math.Max(1, (long)rate))
                        { log.Generated += due - (long)rate; due = Math.Max(1, (long)rate); }
                        batch.Clear();
                        for (var i = 0; i < due; i++)
                        {
                            batch.Add(NextLine(log));
                        }
                        // Lines owed after a stall (a busy machine) are spread over the time since the last append, as the
                        // app would have written them, not bunched into one tick (which coarse timestamps would then merge).
                        log.Current.Append(now, batch, Math.Min(Math.Max(_options.LogTick.Ticks * 100, now - log.LastAppendNanos), (long)(due / rate * 1e9)));
                        log.LastAppendNanos = now;
                        log.Generated += due;
                        if (_options.LogRotateAfterLines is { } rot && log.Current.LinesSinceRotation >= rot)
                        {
                            log.Current.Rotate();
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private static readonly string[] Paths = ["/api/orders", "/api/orders/{0}", "/api/customers/{0}", "/healthz", "/metrics", "/api/cart", "/api/search?q=item{0}", "/"];
    private static readonly string[] Methods = ["GET", "GET", "GET", "POST", "GET", "PUT", "GET", "DELETE"];

    private static string NextLine(ContainerLog log)
    {
        var n = ++log.Counter;
        var h = (ulong)n * 0x9E3779B97F4A7C15UL;
        var r = (int)(h >> 40);
        var path = string.Format(CultureInfo.InvariantCulture, Paths[r % Paths.Length], 1000 + r % 9000);
        var method = Methods[(r >> 3) % Methods.Length];
        var status = r % 97 == 0 ? 500 : r % 41 == 0 ? 404 : method == "POST" ? 201 : 200;
        var ms = 1 + r % 120;
        var ip = $"10.244.{r % 3}.{10 + r % 200}";
        if (log.Style == "nginx")
        {
            return $"{ip} - - [{DateTime.UtcNow.ToString("dd/MMM/yyyy:HH:mm:ss +0000", CultureInfo.InvariantCulture)}] \"{method} {path} HTTP/1.1\" {status} {200 + r % 4000} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"";
        }

        if (n % 53 == 0)
        {
            return $"\u001b[33mwarn\u001b[0m: {log.App}.Cache[7] cache miss ratio {10 + r % 30}% above threshold (20%)";
        }

        if (status == 500)
        {
            return $"\u001b[31mfail\u001b[0m: {log.App}.Api[500] {method} {path} failed after {ms}ms: TimeoutException: upstream 'inventory' did not answer within 100ms";
        }

        if (n % 7 == 0)
        {
            return $"\u001b[32minfo\u001b[0m: {log.App}.Api[1] {method} {path} responded {status} in {ms}ms trace_id={h:x16}";
        }

        return $"info: {log.App}.Api[1] {method} {path} responded {status} in {ms}ms trace_id={h:x16}";
    }

    private static string Stamp() => DateTime.UtcNow.ToString("yyyy/MM/dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static (string App, string Version) Describe(string image)
    {
        // repo@sha256:… (deployed by digest): the version is the short digest, the app the repository's last part.
        var at = image.IndexOf('@');
        if (at >= 0)
        {
            var digest = image[(at + 1)..];
            var (name, _) = Describe(image[..at]);
            return (name, digest.Length > 19 ? digest[..19] : digest);
        }

        var lastSlash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        var tag = colon > lastSlash ? image[(colon + 1)..] : "latest";
        var repo = colon > lastSlash ? image[..colon] : image;
        var app = repo[(repo.LastIndexOf('/') + 1)..];
        return (app.Length == 0 ? "app" : app, tag);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        { await _loop.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        _stop.Dispose();
        foreach (var log in _logs.Values)
        { log.Current?.Close(); log.Previous?.Close(); }
    }
}

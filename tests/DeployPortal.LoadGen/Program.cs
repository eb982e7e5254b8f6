using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using DeployPortal.LoadGen;

// The benchmarks' load generator (tests/DeployPortal.Web.Tests.Benchmarks/CircuitBenchmarks.cs starts it).
//
//   DeployPortal.LoadGen --url http://127.0.0.1:PORT/ [--user viewer] [--circuits 100] [--concurrency 16]
//
// Signs in with the development sign-in, opens that many real Blazor Server circuits on the board page
// (each with its own page load, like a browser tab), then answers commands on standard input, one a line:
//   watch TEXT     from now on, note when each circuit first receives a render batch holding TEXT (and collect
//                  this process's garbage first, so its own GC does not pause it during the round)
//   await MS       wait until every open circuit has, or MS pass; report the arrival times
//   stats          this process's CPU time and memory
//   quit           close every circuit and exit
// Replies are single lines on standard output starting with '@' and a JSON object; anything else is log.
// Loopback only: it refuses any other host.

var options = LoadGenOptions.Parse(args);
if (!IPAddress.TryParse(options.Url.Host, out var address) || !IPAddress.IsLoopback(address))
{
    Console.Error.WriteLine("refusing a non-loopback URL: the generator is for benchmarks on this machine only");
    return 2;
}

var cookies = new CookieContainer();
using var http = new HttpClient(new SocketsHttpHandler
{
    CookieContainer = cookies,
    AllowAutoRedirect = false,
    MaxConnectionsPerServer = options.Concurrency,
})
{ BaseAddress = options.Url, Timeout = TimeSpan.FromMinutes(2) };

await SignInAsync(http, options.User);

var events = new CircuitEvents();
var circuits = new List<BlazorCircuit>();
var openMs = new List<double>();
var errors = new List<string>();
using var stopping = new CancellationTokenSource();
var keepAlive = KeepAliveAsync(circuits, stopping.Token);
var ramp = Stopwatch.StartNew();
using (var gate = new SemaphoreSlim(options.Concurrency))
{
    var tasks = Enumerable.Range(0, options.Circuits).Select(async i =>
    {
        await gate.WaitAsync();
        var circuit = new BlazorCircuit(i, options.Url, cookies, events);
        var clock = Stopwatch.StartNew();
        try
        {
            await circuit.OpenAsync(http, options.OpenTimeout, CancellationToken.None);
            lock (circuits)
            {
                circuits.Add(circuit);
                openMs.Add(clock.Elapsed.TotalMilliseconds);
            }
        }
        catch (Exception ex)
        {
            lock (errors)
            {
                errors.Add($"{circuit}: {ex.GetType().Name}: {ex.Message}");
            }

            await circuit.DisposeAsync();
        }
        finally
        {
            gate.Release();
        }
    }).ToList();
    await Task.WhenAll(tasks);
}

ramp.Stop();
openMs.Sort();
Reply("opened", new
{
    requested = options.Circuits,
    opened = circuits.Count,
    failed = errors.Count,
    errors = errors.Take(5),
    rampSeconds = ramp.Elapsed.TotalSeconds,
    openP50Ms = Percentile(openMs, 50),
    openP95Ms = Percentile(openMs, 95),
    batches = events.Batches,
    batchBytes = events.BatchBytes,
    jsCalls = events.JsCalls,
    cpuSeconds = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds,
});

while (Console.ReadLine() is { } line)
{
    var (command, argument) = line.IndexOf(' ') is var space and > 0 ? (line[..space], line[(space + 1)..]) : (line, "");
    switch (command)
    {
        case "watch":
            var encoded = BlazorCircuit.Utf8(argument);
            events.ResetSeen();
            circuits.ForEach(c => c.Watch(encoded));
            // Collect this process's garbage now, between rounds, rather than in the middle of one: 5,000 clients in one
            // process make a gen0 collection pause it for about 200 ms, and every arrival it notes during that pause
            // would be charged to the portal. Browsers on their own machines do not pause each other. (Measured: one
            // generator collection in ten rounds, inside a round, before this.)
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            Reply("armed", new { circuits = circuits.Count, gcs = GC.CollectionCount(0), gcPausedMs = GC.GetTotalPauseDuration().TotalMilliseconds, allocated = GC.GetTotalAllocatedBytes() });
            break;
        case "await":
            var deadline = Stopwatch.StartNew();
            var limit = TimeSpan.FromMilliseconds(int.Parse(argument, System.Globalization.CultureInfo.InvariantCulture));
            var live = circuits.Count - (int)events.ClosedCount;
            while (events.SeenCount < live && deadline.Elapsed < limit)
            {
                await Task.Delay(10);
            }

            var seen = circuits.Select(c => c.WatchedSeenAt).Where(t => t != 0).ToList();
            Reply("seen", new
            {
                seen = seen.Count,
                missing = circuits.Count - seen.Count,
                timestamps = seen,
                gcs = GC.CollectionCount(0), // this process's own collections: a pause here delays the arrival times it notes
                gcPausedMs = GC.GetTotalPauseDuration().TotalMilliseconds,
                allocated = GC.GetTotalAllocatedBytes(),
            });
            break;
        case "stats":
            var self = Process.GetCurrentProcess();
            Reply("stats", new
            {
                cpuSeconds = self.TotalProcessorTime.TotalSeconds,
                workingSetBytes = self.WorkingSet64,
                gcHeapBytes = GC.GetTotalMemory(false),
                open = circuits.Count - events.ClosedCount,
                closed = events.ClosedCount,
                batches = events.Batches,
                jsCalls = events.JsCalls,
            });
            break;
        case "quit":
            await stopping.CancelAsync();
            await keepAlive;
            using (var gate = new SemaphoreSlim(64))
            {
                await Task.WhenAll(circuits.Select(async c =>
                {
                    await gate.WaitAsync();
                    try
                    {
                        await c.DisposeAsync();
                    }
                    finally
                    {
                        gate.Release();
                    }
                }));
            }

            Reply("bye", new { });
            return 0;
        default:
            Console.Error.WriteLine($"unknown command: {line}");
            break;
    }
}

return 0;

static void Reply(string kind, object body)
{
    Console.Out.WriteLine("@" + kind + " " + JsonSerializer.Serialize(body));
    Console.Out.Flush();
}

// One loop pings every circuit that has sent nothing for 15 s (checked every 5 s), as SignalR's clients do: the server
// drops a client it has not heard from for 30 s. A timer per circuit would add 5,000 timers to the machine.
static async Task KeepAliveAsync(List<BlazorCircuit> circuits, CancellationToken ct)
{
    using var tick = new PeriodicTimer(TimeSpan.FromSeconds(5));
    try
    {
        while (await tick.WaitForNextTickAsync(ct))
        {
            BlazorCircuit[] open;
            lock (circuits)
            {
                open = [.. circuits];
            }

            foreach (var circuit in open)
            {
                await circuit.KeepAliveAsync(TimeSpan.FromSeconds(15));
            }
        }
    }
    catch (OperationCanceledException)
    {
    }
}

static double Percentile(List<double> sorted, int p) =>
    sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];

static async Task SignInAsync(HttpClient http, string user)
{
    // The sign-in form carries an antiforgery token; post it back with the demo user's id.
    var page = await http.GetStringAsync("signin");
    var token = Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
    using var response = await http.PostAsync("account/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string>
    {
        ["user"] = user,
        ["__RequestVerificationToken"] = token,
    }));
    if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString.Contains("error", StringComparison.Ordinal) == true)
    {
        throw new InvalidOperationException($"development sign-in as {user} failed: {(int)response.StatusCode} {response.Headers.Location}");
    }
}

internal sealed record LoadGenOptions(Uri Url, string User, int Circuits, int Concurrency, TimeSpan OpenTimeout)
{
    public static LoadGenOptions Parse(string[] args)
    {
        string Value(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        var url = Value("--url", "");
        if (url.Length == 0)
        {
            throw new ArgumentException("--url is required");
        }

        return new LoadGenOptions(
            new Uri(url.EndsWith('/') ? url : url + "/"),
            Value("--user", "viewer"),
            int.Parse(Value("--circuits", "100"), System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Value("--concurrency", "16"), System.Globalization.CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(int.Parse(Value("--open-timeout", "120"), System.Globalization.CultureInfo.InvariantCulture)));
    }
}

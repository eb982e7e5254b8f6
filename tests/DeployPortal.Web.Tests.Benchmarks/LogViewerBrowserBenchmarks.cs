using System.Diagnostics;
using System.Text.Json;
using DeployPortal.KubeEmulator;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Logs;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>
/// The log viewer in a real browser (Debian's Chromium) on the embedded default, the emulator's container writing at
/// a set rate: line-emitted → line-in-DOM latency at 1,000 lines/s, the rates the page sustains without falling
/// behind or blocking its main thread for over 100 ms, the server memory of 50 viewers of one pod, and the raw rate
/// KubernetesClient reads the same stream with no UI. Figures for the README; see its Benchmarks section.
/// </summary>
[Trait("Category", "Benchmark")]
[Collection(BrowserCollection.Name)]
public sealed class LogViewerBrowserBenchmarks(BrowserFixture browser, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly int[] Rates = [2_000, 5_000, 10_000, 20_000, 40_000];
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan GoalWindow = TimeSpan.FromSeconds(60); // the 10,000 lines/s goal is held for a minute

    // Records, in the page, how old the newest line in the DOM is each time the log view changes (its kubelet time is
    // when the emulator wrote it; same machine, same clock), and the longest main-thread task (the browser reports
    // tasks of 50 ms and more). Blazor updates the virtualised rows in place, so text changes count as well as new rows.
    private const string Probe = """
        () => {
          const el = document.querySelector('[data-testid=log-lines]');
          const s = window.__dp = { lat: [], longest: 0 };
          const day = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
          new MutationObserver(() => {
            const times = el.querySelectorAll('.portal-log-time');
            const t = times[times.length - 1];
            if (!t) return;
            const [h, mi, rest] = t.textContent.split(':');
            s.lat.push(Date.now() - (day + ((+h * 60 + +mi) * 60 + parseFloat(rest)) * 1000));
          }).observe(el, { childList: true, subtree: true, characterData: true });
          new PerformanceObserver(l => { for (const e of l.getEntries()) s.longest = Math.max(s.longest, e.duration); }).observe({ type: 'longtask' });
        }
        """;

    private TestDatabase _database = default!;
    private PortalHost _host = default!;
    private Uri _portal = default!;

    // The running emulator's options: the configured ones are copied at start, so changing those would change nothing.
    private EmulatorOptions EmulatorOptions => _host.Services.GetRequiredService<EmulatorHost>().RunningOptions!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        _host = PortalHost.EmbeddedDefault(_database, new Dictionary<string, string?> { ["Cluster:Emulator:LogLinesPerSecond"] = "5" });
        _portal = _host.Start();
    }

    public async Task DisposeAsync()
    {
        await browser.CloseContextsAsync();
        await _host.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Viewer_InChromium_LatencyAt1k_SustainedRate_ServerMemory_AndRawClientRate()
    {
        var page = await browser.SignInAsync(_portal, "devon");
        await page.GotoAsync("/deploy?app=payments&branch=main&slot=qa-3");
        await BrowserFixture.WaitInteractiveAsync(page);
        await page.Locator("[data-testid=deploy-purpose]").FillAsync("log benchmark");
        await Expect(page.Locator("[data-testid=deploy-preflight]")).ToContainTextAsync("(log benchmark)"); // the form has it: see DeployTests
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();
        await BrowserFixture.WaitForDeploymentPageAsync(page, "log-benchmark");
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 60_000 });
        // 1. Server memory: 50 viewers of the one pod, each with its subscription and a filled view, as a circuit holds
        // them. Measured first, with the deploying page closed and its log follow gone, so nothing else is freed meanwhile.
        var deploymentUrl = page.Url;
        var pod = (await page.Locator("[data-testid=pod]").First.TextContentAsync())!.Trim();
        await page.CloseAsync();
        var hub = _host.Services.GetRequiredService<PodLogHub>();
        var idle = Stopwatch.StartNew();
        while (hub.ActiveUpstreams > 0 && idle.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(200); // bounded poll: the hub raises no event when a follow closes
        }

        EmulatorOptions.LogLinesPerSecond = 1_000;
        var key = new PodLogKey("qa-3", pod, "payments");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var connectionsBefore = hub.Connections;
        var viewers = Enumerable.Range(0, 50).Select(_ => (Subscription: hub.Subscribe(key), View: new LogView())).ToList();
        // Each viewer drains its subscription on a 100 ms tick, as the page does, for 10 s.
        var deadline = Stopwatch.StartNew();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (deadline.Elapsed < TimeSpan.FromSeconds(10) && await tick.WaitForNextTickAsync())
        {
            foreach (var (subscription, view) in viewers)
            {
                var batch = new List<LogLine>();
                while (subscription.Reader.TryRead(out var e))
                {
                    if (e.Line is { } l)
                    {
                        batch.Add(l);
                    }
                }

                view.Add(batch);
            }
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"50 viewers of one pod at 1,000 lines/s after 10 s: {hub.ActiveUpstreams} upstream(s) ({hub.Connections - connectionsBefore} new connections), "
            + $"{(after - before) / 1024.0 / 1024:0.0} MB managed heap in total ({(after - before) / 50 / 1024.0:0} KB per viewer, {viewers[0].View.Count:N0} lines each)");
        GC.KeepAlive(viewers);
        viewers.ForEach(v => v.Subscription.Dispose());

        // 2. The viewer in the browser: latency at 1,000 lines/s, then rising rates.
        page = await browser.SignInAsync(_portal, "devon");
        await page.GotoAsync(deploymentUrl);
        await BrowserFixture.WaitInteractiveAsync(page);

        var lines = page.Locator("[data-testid=log-lines]");
        await Expect(lines.Locator("[data-testid=log-line]").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.EvaluateAsync(Probe);

        // Latency at 1,000 lines/s.
        var (latency, _, _, _) = await RunAtAsync(page, lines, 1_000, TimeSpan.FromSeconds(15));
        output.WriteLine($"latency at 1,000 lines/s: p50 {Percentile(latency, 50):0} ms, p95 {Percentile(latency, 95):0} ms, max {latency.DefaultIfEmpty().Max():0} ms ({latency.Count} lines sampled in the DOM)");

        // Sustained rates.
        output.WriteLine("| lines/s written | lines/s reached the page | skipped | newest line's delay p95 | longest main-thread task | keeps up |");
        foreach (var rate in Rates)
        {
            var window = rate == 10_000 ? GoalWindow : RateWindow;
            var (lat, perSecond, skipped, longest) = await RunAtAsync(page, lines, rate, window);
            var keepsUp = skipped == 0 && perSecond >= rate * 0.95 && longest <= 100 && Percentile(lat, 95) < 1_000;
            output.WriteLine($"| {rate:N0} ({window.TotalSeconds:0} s) | {perSecond:N0} | {skipped:N0} | {Percentile(lat, 95):0} ms | {(longest == 0 ? "none ≥ 50 ms" : $"{longest:0} ms")} | {(keepsUp ? "yes" : "no")} |");
        }

        await page.CloseAsync();

        // 3. The upper bound: KubernetesClient reading the same stream with no UI.
        EmulatorOptions.LogLinesPerSecond = 200_000;
        var gateway = _host.Services.GetRequiredService<ClusterGateway>(); // the emulator's writer reads the rate on every tick
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(6));
        await using var stream = await gateway.OpenPodLogAsync("qa-3", pod, "payments", follow: true, sinceTime: null, tailLines: 0, previous: false, cts.Token);
        using var reader = new StreamReader(stream);
        long read = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            while (await reader.ReadLineAsync(cts.Token) is not null)
            {
                read++;
            }
        }
        catch (OperationCanceledException)
        {
        }

        output.WriteLine($"KubernetesClient follow, no UI, emulator writing 200,000 lines/s: {read / clock.Elapsed.TotalSeconds:N0} lines/s read");
        EmulatorOptions.LogLinesPerSecond = 5;
        Assert.True(read > 0);
    }

    private async Task<(List<double> Latency, double PerSecond, long Skipped, double Longest)> RunAtAsync(IPage page, ILocator lines, int rate, TimeSpan window)
    {
        EmulatorOptions.LogLinesPerSecond = rate;
        await Task.Delay(TimeSpan.FromSeconds(2)); // settle at the new rate
        await page.EvaluateAsync("() => { window.__dp.lat = []; window.__dp.longest = 0; }");
        var total0 = long.Parse(await lines.GetAttributeAsync("data-total") ?? "0");
        var skipped0 = long.Parse(await lines.GetAttributeAsync("data-skipped") ?? "0");
        var clock = Stopwatch.StartNew();
        await Task.Delay(window);
        var total1 = long.Parse(await lines.GetAttributeAsync("data-total") ?? "0");
        var skipped1 = long.Parse(await lines.GetAttributeAsync("data-skipped") ?? "0");
        var elapsed = clock.Elapsed.TotalSeconds;
        var probe = await page.EvaluateAsync<JsonElement>("() => ({ lat: window.__dp.lat, longest: window.__dp.longest })");
        var latency = probe.GetProperty("lat").EnumerateArray().Select(e => e.GetDouble()).ToList();
        return (latency, (total1 - total0) / elapsed, skipped1 - skipped0, probe.GetProperty("longest").GetDouble());
    }

    private static double Percentile(List<double> values, int p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1)];
    }
}

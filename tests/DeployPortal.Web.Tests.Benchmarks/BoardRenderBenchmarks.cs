using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Xunit.Abstractions;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>
/// The board's first paint: an HTTP GET of <c>/</c> with a session cookie, answered by the server-side
/// prerender, on a board of 50 slots (half held, each with a deployment) over 10,000 audit rows.
/// </summary>
[Trait("Category", "Benchmark")]
public sealed partial class BoardRenderBenchmarks(ITestOutputHelper output)
{
    private const int Slots = 50;
    private const int AuditRows = 10_000;
    private const int Requests = 300;

    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.Sqlite)]
    public async Task BoardPage_PrerenderedWith50SlotsAnd10kAuditRows(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var host = new PortalHost(database, settings: new Dictionary<string, string?> { ["Database:SeedDemoSlots"] = "false" });
        host.Start();
        await BoardSeed.SlotsAsync(database, Slots, held: Slots / 2);
        await SeedAuditAsync(database);

        using var client = host.CreateLoopbackClient();
        var signIn = await client.GetStringAsync("/signin");
        var antiforgery = Antiforgery().Match(signIn).Groups[1].Value;
        using (var signedIn = await client.PostAsync("/account/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = "viewer", ["__RequestVerificationToken"] = antiforgery })))
        {
            Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        }

        for (var i = 0; i < 30; i++)
        {
            await GetBoardAsync(client); // warm-up: JIT, EF query compilation, pools
        }

        var times = new List<double>();
        long bytes = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        for (var i = 0; i < Requests; i++)
        {
            var clock = Stopwatch.StartNew();
            bytes = (await GetBoardAsync(client)).Length;
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        var cpuPerRequest = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds / Requests;
        var p50 = BenchmarkReport.Percentile(times, 50);
        var p95 = BenchmarkReport.Percentile(times, 95);
        output.WriteLine($"{provider}: GET / ({bytes:N0} bytes of HTML, {Slots} slots, {AuditRows:N0} audit rows) p50 {p50:0.0} ms, p95 {p95:0.0} ms, max {times.Max():0.0} ms; CPU {cpuPerRequest:0.0} ms/request");

        var name = provider == DatabaseProvider.Postgres ? "PostgreSQL" : "embedded SQLite";
        BenchmarkReport.Row($"6-board-render-{provider.ToString().ToLowerInvariant()}", $"board page server-side render, {name}",
            $"p50 {BenchmarkReport.Ms(p50)}, p95 {BenchmarkReport.Ms(p95)}, max {BenchmarkReport.Ms(times.Max())} ({bytes / 1024.0:0} KiB of HTML; CPU {cpuPerRequest:0.0} ms per request, client included)",
            "p95 ≤ 50 ms", p95 <= 50,
            $"{Requests} sequential `GET /` with the session cookie of a signed-in viewer over loopback after 30 warm-up requests, timed to the last byte of the "
            + $"prerendered page; {Slots} slots ({Slots / 2} held, each with a deployment), {AuditRows:N0} audit events in the database; {name}.");

        Assert.Contains("data-testid=\"board\"", await GetBoardAsync(client));
    }

    private static async Task<string> GetBoardAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task SeedAuditAsync(TestDatabase database)
    {
        var start = DateTime.UtcNow.AddDays(-30);
        await using var db = database.Factory.CreateDbContext();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        for (var i = 0; i < AuditRows; i++)
        {
            db.AuditEvents.Add(new AuditEvent
            {
                At = start.AddMinutes(i * 4),
                ActorId = $"dev:user{i % 40}",
                ActorName = $"User {i % 40}",
                Action = (i % 3) switch { 0 => "claim", 1 => "deploy", _ => "release" },
                SlotId = null,
                SlotName = $"bench-{i % Slots + 1:00}",
                Details = $"benchmark history row {i}",
            });
        }

        await db.SaveChangesAsync();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Antiforgery();
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>
/// CI pipelines fighting over a few slots through the REST API on PostgreSQL: each worker (its own user and
/// token) claims a random one of 4 slots and, when it wins, releases it at once. Throughput, latency, and
/// afterwards a check from the database and from the workers' own timelines that no slot was ever held twice.
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class ApiContentionBenchmarks(ITestOutputHelper output)
{
    private const int SlotCount = 4;

    [Fact]
    public async Task ClaimRelease_ContendedThroughTheApi_OnPostgres_WithoutDoubleBooking()
    {
        var workers = BenchmarkReport.Setting("DEPLOYPORTAL_BENCH_API_WORKERS", 32);
        var seconds = BenchmarkReport.Setting("DEPLOYPORTAL_BENCH_API_SECONDS", 15);
        // Long enough for tiered compilation to finish: after 10 s, `perf` still found the portal's own code unoptimized
        // (QuickJitted) and 9 % of the process in the JIT; a cold start is not the portal's steady state.
        var warmUp = BenchmarkReport.Setting("DEPLOYPORTAL_BENCH_API_WARMUP", 40);
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var host = new PortalHost(database, settings: new Dictionary<string, string?>
        {
            ["Database:SeedDemoSlots"] = "false",
            // The per-token limit protects a real portal from a runaway pipeline; here it would measure the limiter.
            ["Api:RateLimit:PermitsPerWindow"] = "100000000",
        });
        var portal = host.Start();
        var slots = await BoardSeed.SlotsAsync(database, SlotCount, held: 0);
        var tokens = new List<string>();
        for (var i = 0; i < workers; i++)
        {
            await using var scope = host.Services.CreateAsyncScope();
            var created = await scope.ServiceProvider.GetRequiredService<AccessTokenService>().CreateAsync(
                TestUsers.Make($"bench-{i}", $"Bench Worker {i}", PortalRoles.Developer), new CreateAccessTokenRequest("bench", TimeSpan.FromDays(1)));
            tokens.Add(created.Value!.Secret);
        }

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = workers, AllowAutoRedirect = false }) { BaseAddress = portal };
        var latencies = new ConcurrentBag<double>();
        var intervals = new ConcurrentBag<(int Slot, long HoldId, int Worker, long From, long To)>();
        var unexpected = new ConcurrentBag<string>();
        long won = 0, refused = 0, released = 0;
        var measuring = false;

        async Task WorkerAsync(int worker, TimeSpan duration)
        {
            var random = new Random(worker);
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < duration)
            {
                var slot = slots[random.Next(SlotCount)].Id;
                var sent = Stopwatch.GetTimestamp();
                using var claim = await SendAsync(tokens[worker], $"api/v1/slots/{slot}/claim", new { purpose = $"CI run of worker {worker}", duration = "00:10:00" });
                var answered = Stopwatch.GetTimestamp();
                Record(sent, answered);
                if (claim.StatusCode == HttpStatusCode.Conflict)
                {
                    Count(ref refused);
                    continue;
                }

                if (claim.StatusCode != HttpStatusCode.Created)
                {
                    unexpected.Add($"claim: {(int)claim.StatusCode} {await claim.Content.ReadAsStringAsync()}");
                    continue;
                }

                Count(ref won);
                var holdId = (await claim.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
                var releasing = Stopwatch.GetTimestamp();
                using var release = await SendAsync(tokens[worker], $"api/v1/slots/{slot}/release", new { holdId });
                Record(releasing, Stopwatch.GetTimestamp());
                if (release.StatusCode != HttpStatusCode.OK)
                {
                    unexpected.Add($"release: {(int)release.StatusCode} {await release.Content.ReadAsStringAsync()}");
                    continue;
                }

                Count(ref released);
                // The worker believed it held the slot from the claim's answer until it asked to release it.
                intervals.Add((slot, holdId, worker, answered, releasing));
            }
        }

        void Record(long from, long to)
        {
            if (Volatile.Read(ref measuring))
            {
                latencies.Add((to - from) * 1000.0 / Stopwatch.Frequency);
            }
        }

        void Count(ref long counter)
        {
            if (Volatile.Read(ref measuring))
            {
                Interlocked.Increment(ref counter);
            }
        }

        async Task<HttpResponseMessage> SendAsync(string token, string path, object body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return await http.SendAsync(request);
        }

        // Warm up (JIT, connection pools), then measure.
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => WorkerAsync(w, TimeSpan.FromSeconds(warmUp))));
        intervals.Clear();
        unexpected.Clear();
        // PostgreSQL's CPU too: the portal mostly waits on it, so the process's figure alone would not say where the cores went.
        var postgresCpu = await PostgresCpu.TryStartAsync(PostgresServer.AdminConnectionString);
        Volatile.Write(ref measuring, true);
        var serverCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => WorkerAsync(w, TimeSpan.FromSeconds(seconds))));
        var elapsed = wall.Elapsed.TotalSeconds;
        Volatile.Write(ref measuring, false);
        var processCpu = (Process.GetCurrentProcess().TotalProcessorTime - serverCpuBefore).TotalSeconds;
        var databaseCpu = postgresCpu?.Elapsed;
        // Background jobs the requests left behind (a release queues a teardown only for a hold that deployed something).
        var monitoring = host.Services.GetRequiredService<Hangfire.JobStorage>().GetMonitoringApi();
        var jobsBehind = monitoring.EnqueuedCount("default") + monitoring.ProcessingCount();

        // No double booking, from the database: no slot is left held, every hold a worker won is one row
        // released by that worker, and the partial unique index that makes claims exclusive is in place.
        await using var db = database.Factory.CreateDbContext();
        var holds = await db.Holds.AsNoTracking().ToListAsync();
        var stillHeld = holds.Count(h => h.ReleasedAt is null);
        var byId = holds.ToDictionary(h => h.Id);
        var mismatched = intervals.Count(i => !byId.TryGetValue(i.HoldId, out var h) || h.SlotId != i.Slot || h.HolderId != $"bench-{i.Worker}" || h.ReleasedAt is null);
        var indexExists = await db.Database.SqlQueryRaw<int>(
            "SELECT 1 AS \"Value\" FROM pg_indexes WHERE indexname = 'IX_Holds_ActivePerSlot' AND indexdef LIKE '%UNIQUE%' AND indexdef LIKE '%WHERE%'").AnyAsync();
        // ...and from the workers' timelines: the time each believed it held a slot lies inside the time the
        // database held it for them, so two such spans on one slot that overlap would be a double booking.
        var overlaps = intervals.GroupBy(i => i.Slot).Sum(g =>
        {
            var sorted = g.OrderBy(i => i.From).ToList();
            return sorted.Zip(sorted.Skip(1)).Count(p => p.Second.From < p.First.To);
        });
        var doubleBookings = overlaps + mismatched + stillHeld + (indexExists ? 0 : 1);

        // Every claim and release answered is an operation: under contention most claims must be refused, and a
        // correct refusal is as much the API's work as a win. The successful ones are reported beside it.
        var successful = won + released;
        var operations = won + refused + released;
        var p50 = BenchmarkReport.Percentile(latencies, 50);
        var p95 = BenchmarkReport.Percentile(latencies, 95);
        output.WriteLine($"{workers} workers, {SlotCount} slots, {elapsed:0.0} s: {won} claims won, {refused} refused (409), {released} released, {unexpected.Count} unexpected");
        output.WriteLine($"claim/release operations answered {operations / elapsed:0}/s, of them successful claims + releases {successful / elapsed:0}/s; request latency p50 {p50:0.0} ms, p95 {p95:0.0} ms");
        output.WriteLine($"background jobs (teardowns) still queued or running at the end: {jobsBehind}, after {released} releases");
        output.WriteLine($"double bookings: {overlaps} overlapping holds seen by workers, {mismatched} won holds not matching their row, {stillHeld} left held, unique index present: {indexExists}");
        output.WriteLine($"portal + load (one process) CPU {processCpu / elapsed:0.00} of {Environment.ProcessorCount} cores, {processCpu * 1000 / operations:0.00} ms per request; "
            + (databaseCpu is { } db1 ? $"PostgreSQL CPU {db1 / elapsed:0.00} cores, {db1 * 1000 / operations:0.00} ms per request" : "PostgreSQL CPU not measured (server not on this machine)"));
        foreach (var problem in unexpected.Take(5))
        {
            output.WriteLine("unexpected: " + problem);
        }

        BenchmarkReport.Row("5-api-contention", "contended claim/release through the REST API, PostgreSQL",
            $"{operations / elapsed:0} claims and releases answered/s: {successful / elapsed:0}/s successful claims + releases, {refused / elapsed:0}/s claims refused with 409 because the slot was taken; "
            + $"request p50 {BenchmarkReport.Ms(p50)}, p95 {BenchmarkReport.Ms(p95)}; {doubleBookings} double bookings; {unexpected.Count} unexpected answers; "
            + $"portal and load generator (one process) used {processCpu / elapsed:0.00} of {Environment.ProcessorCount} cores ({processCpu * 1000 / operations:0.00} ms per request), "
            + (databaseCpu is { } db2 ? $"PostgreSQL {db2 / elapsed:0.00} ({db2 * 1000 / operations:0.00} ms per request)" : "PostgreSQL not measured")
            + $"; {jobsBehind} teardown jobs still queued or running at the end",
            "≥ 500 operations/s, zero double bookings",
            operations / elapsed >= 500 && doubleBookings == 0 && unexpected.IsEmpty,
            $"{workers} workers, each its own developer with a personal access token, loop for {seconds} s (after {warmUp} s of warm-up): `POST /api/v1/slots/{{id}}/claim` "
            + $"on a random one of {SlotCount} slots, and on 201 `POST …/release` with the hold id; one HTTP/1.1 connection per worker over loopback; rate limit raised. "
            + "Operations = claim and release requests answered (a refused claim included: under contention most claims must lose). Double bookings, checked afterwards: holds left active, won holds whose row has another slot, holder or no release, "
            + "the partial unique index missing, and overlapping [claim answered, release sent] spans of different workers on one slot. "
            + "PostgreSQL's CPU is the postmaster's and its children's user + system time from /proc over the measured span.");

        Assert.Empty(unexpected);
        Assert.Equal(0, doubleBookings);
    }
}

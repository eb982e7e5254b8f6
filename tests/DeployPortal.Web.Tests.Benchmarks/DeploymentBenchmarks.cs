using System.Diagnostics;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using k8s;
using k8s.Models;
using Xunit.Abstractions;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>
/// Figures for the README, not pass/fail checks: excluded from the normal run by the Benchmark category.
/// Run: tests/run.sh is the normal run; for these,
/// start PostgreSQL the same way and run dotnet test -c Release --filter Category=Benchmark --logger "console;verbosity=detailed".
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class DeploymentBenchmarks(ITestOutputHelper output)
{
    private const int Runs = 25;

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task EnqueueToStart_AndPortalOverheadVersusDirectApply(DatabaseProvider provider)
    {
        await using var h = await DeployHarness.CreateAsync(provider);
        var enqueueToStart = new List<double>();
        var portal = new List<double>();
        for (var i = 0; i < Runs; i++)
        {
            var clock = Stopwatch.StartNew();
            var queued = await h.DeployAsync(TestUsers.Dana, "payments", i % 2 == 0 ? "main" : "feature/login", "qa-1");
            var done = await h.WaitFinishedAsync(queued.Id);
            portal.Add(clock.Elapsed.TotalMilliseconds);
            Assert.Equal(DeploymentState.Succeeded, done.State);
            enqueueToStart.Add((done.StartedAt!.Value - done.CreatedAt).TotalMilliseconds);
        }

        var direct = new List<double>();
        for (var i = 0; i < Runs; i++)
        {
            var clock = Stopwatch.StartNew();
            await DirectApplyAndWaitAsync(h.Kubernetes, "qa-2", i % 2 == 0 ? "main" : "feature-login");
            direct.Add(clock.Elapsed.TotalMilliseconds);
        }

        output.WriteLine($"{provider}: enqueue→start p50 {P(enqueueToStart, 50):0} ms, p95 {P(enqueueToStart, 95):0} ms ({Runs} deployments)");
        output.WriteLine($"{provider}: click→Succeeded through the portal p50 {P(portal, 50):0} ms; direct apply + rollout wait p50 {P(direct, 50):0} ms; "
            + $"overhead {P(portal, 50) - P(direct, 50):0} ms ({P(portal, 50) / P(direct, 50):0.00}x)");

        var name = provider == DatabaseProvider.Postgres ? "PostgreSQL + Hangfire.PostgreSql" : "embedded (SQLite + Hangfire.InMemory)";
        BenchmarkReport.Row($"4-enqueue-{provider.ToString().ToLowerInvariant()}", $"enqueue → job start, {name}",
            $"p50 {BenchmarkReport.Ms(P(enqueueToStart, 50))}, p95 {BenchmarkReport.Ms(P(enqueueToStart, 95))}; click → Succeeded p50 {BenchmarkReport.Ms(P(portal, 50))} "
            + $"vs {BenchmarkReport.Ms(P(direct, 50))} applying directly (overhead {BenchmarkReport.Ms(P(portal, 50) - P(direct, 50))})",
            "p95 ≤ 250 ms", P(enqueueToStart, 95) <= 250,
            $"{Runs} deployments of a one-replica app one after another into one slot, on the Kubernetes API emulator with 50–150 ms pod phases; enqueue → start is "
            + "the deployment row's CreatedAt → StartedAt (stamped when the job has taken its lease); \"directly\" is the same server-side apply with KubernetesClient "
            + "plus polling until available.");
    }

    /// <summary>What a script would do without the portal: server-side apply, then poll until available.</summary>
    private static async Task DirectApplyAndWaitAsync(Kubernetes client, string ns, string tag)
    {
        await client.CoreV1.PatchNamespaceAsync(new V1Patch(new V1Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new() { Name = ns } }, V1Patch.PatchType.ApplyPatch), ns, fieldManager: "bench", force: true);
        var labels = new Dictionary<string, string> { ["app"] = "direct" };
        var deployment = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new() { Name = "direct", NamespaceProperty = ns },
            Spec = new() { Replicas = 1, Selector = new() { MatchLabels = labels }, Template = new() { Metadata = new() { Labels = labels }, Spec = new() { Containers = [new() { Name = "direct", Image = $"registry.example.com/shop/payments:{tag}" }] } } },
        };
        var applied = await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(deployment, V1Patch.PatchType.ApplyPatch), "direct", ns, fieldManager: "bench", force: true);
        while (true)
        {
            var d = await client.AppsV1.ReadNamespacedDeploymentAsync("direct", ns);
            if (d.Status?.ObservedGeneration >= applied.Metadata.Generation && d.Status.UpdatedReplicas == 1 && d.Status.AvailableReplicas == 1 && d.Status.Replicas == 1)
            {
                return;
            }

            await Task.Delay(20);
        }
    }

    private static double P(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}

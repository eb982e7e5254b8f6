using System.Diagnostics;
using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DeployPortal.KubeEmulator.Tests;

public sealed class FaultTests : EmulatorTestBase
{
    public FaultTests() : base(o => o.LogLinesPerSecond = 200) { }

    [Theory]
    [InlineData(500, "InternalError")]
    [InlineData(503, "ServiceUnavailable")]
    [InlineData(429, "TooManyRequests")]
    public async Task Fault_ErrorResponse_SurfacesAsHttpOperationExceptionWithStatusBody(int code, string reason)
    {
        Server.Faults.FailNext(1, code);
        try
        {
            var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ListNamespacedPodAsync("default"));
            Assert.Equal((HttpStatusCode)code, ex.Response.StatusCode);
            var status = JsonSerializer.Deserialize<V1Status>(ex.Response.Content)!;
            Assert.Equal("Failure", status.Status);
            Assert.Equal(reason, status.Reason);
            Assert.Equal(code, status.Code);
            if (code is 429 or 503)
            {
                Assert.Equal("1", ex.Response.Headers["Retry-After"].Single());
            }
            // The next request is healthy again.
            Assert.NotNull(await Client.CoreV1.ListNamespacedPodAsync("default"));
        }
        finally { Server.Faults.Reset(); }
    }

    [Fact]
    public async Task Fault_ErrorRate_FailsAboutThatShareOfRequests()
    {
        Server.Faults.ErrorRate = 0.5;
        Server.Faults.Seed = 42;
        Server.Faults.ErrorStatusCodes = [503];
        try
        {
            var failures = 0;
            for (var i = 0; i < 100; i++)
            {
                try
                { await Client.CoreV1.ListNamespacedPodAsync("default"); }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.ServiceUnavailable) { failures++; }
            }
            Assert.InRange(failures, 30, 70);
        }
        finally { Server.Faults.Reset(); Server.Faults.ErrorStatusCodes = [500, 503, 429]; }
    }

    [Fact]
    public async Task Fault_PathFilter_OnlyFaultsMatchingRequests()
    {
        Server.Faults.ErrorRate = 1;
        Server.Faults.PathContains = "/configmaps";
        try
        {
            await Client.CoreV1.ListNamespacedPodAsync("default");
            await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ListNamespacedConfigMapAsync("default"));
        }
        finally { Server.Faults.Reset(); }
    }

    [Fact]
    public async Task Fault_Latency_DelaysEveryRequest()
    {
        Server.Faults.Latency = TimeSpan.FromMilliseconds(300);
        try
        {
            var sw = Stopwatch.StartNew();
            await Client.CoreV1.ListNamespacedPodAsync("default");
            Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(290), $"took {sw.ElapsedMilliseconds} ms");
        }
        finally { Server.Faults.Reset(); }
    }

    [Fact]
    public async Task Fault_HangingRequest_ClientTimesOut()
    {
        Server.Faults.HangRate = 1;
        try
        {
            using var impatient = NewClient(TimeSpan.FromMilliseconds(500));
            var sw = Stopwatch.StartNew();
            var ex = await Record.ExceptionAsync(() => impatient.CoreV1.ListNamespacedPodAsync("default"));
            Assert.True(ex is TaskCanceledException or TimeoutException or OperationCanceledException, ex?.GetType().FullName);
            Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(10));
        }
        finally { Server.Faults.Reset(); }
    }

    [Fact]
    public async Task Fault_DropWatchAfterEvents_StreamBreaksAfterThatManyEvents()
    {
        for (var i = 0; i < 5; i++)
        {
            await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = $"drop-{i}" } }, "default");
        }

        Server.Faults.DropWatchAfterEvents = 2;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var received = 0;
            Exception? error = null;
            var watch = Client.CoreV1.WatchListNamespacedSecretAsync("default", onError: e => error = e, cancellationToken: cts.Token);
            try
            {
                await foreach (var _ in watch)
                {
                    received++;
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException) { error = e; }
            Assert.Equal(2, received);
            Assert.False(cts.IsCancellationRequested, "the server, not the test, must end the watch");
            Assert.NotNull(error);
        }
        finally { Server.Faults.Reset(); }
    }

    [Fact]
    public async Task Fault_DropWatchAfterTime_StreamBreaks()
    {
        Server.Faults.DropWatchAfter = TimeSpan.FromMilliseconds(300);
        try
        {
            using var resp = await Http.GetAsync("api/v1/namespaces/default/services?watch=true&resourceVersion=1", HttpCompletionOption.ResponseHeadersRead);
            var sw = Stopwatch.StartNew();
            var ex = await Record.ExceptionAsync(async () => await new StreamReader(await resp.Content.ReadAsStreamAsync()).ReadToEndAsync());
            Assert.True(ex is IOException or HttpRequestException, ex?.GetType().FullName ?? "stream ended cleanly");
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(8));
        }
        finally { Server.Faults.Reset(); }
    }

    private async Task<string> ReadyPodAsync()
    {
        var name = Unique("f");
        await ApplyAsync(Deployment(name, "shop:1"));
        string? pod = null;
        await Eventually(async () => (pod = (await PodsOfAsync(name)).SingleOrDefault(p => p.Status?.ContainerStatuses?.FirstOrDefault()?.Ready == true)?.Metadata.Name) is not null, "pod ready");
        return pod!;
    }

    [Fact]
    public async Task Fault_DropLogsAfterLines_FollowBreaksAfterThatManyLines()
    {
        var pod = await ReadyPodAsync();
        Server.Faults.DropLogsAfterLines = 25;
        try
        {
            await using var stream = await Client.CoreV1.ReadNamespacedPodLogAsync(pod, "default", follow: true);
            var reader = new StreamReader(stream);
            var lines = 0;
            var ex = await Record.ExceptionAsync(async () => { while (await reader.ReadLineAsync() is not null) { lines++; } });
            Assert.True(ex is IOException or HttpRequestException, ex?.GetType().FullName ?? "stream ended cleanly");
            Assert.Equal(25, lines);
        }
        finally { Server.Faults.Reset(); }
    }

    [Fact]
    public async Task Fault_DropLogsAfterTime_FollowBreaks()
    {
        var pod = await ReadyPodAsync();
        Server.Faults.DropLogsAfter = TimeSpan.FromMilliseconds(300);
        try
        {
            await using var stream = await Client.CoreV1.ReadNamespacedPodLogAsync(pod, "default", follow: true);
            var sw = Stopwatch.StartNew();
            var ex = await Record.ExceptionAsync(async () => await new StreamReader(stream).ReadToEndAsync());
            Assert.True(ex is IOException or HttpRequestException, ex?.GetType().FullName ?? "stream ended cleanly");
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(8));
        }
        finally { Server.Faults.Reset(); }
    }

    [Fact]
    public async Task Fault_DiscoveryIsExemptByDefault()
    {
        Server.Faults.ErrorRate = 1;
        try
        {
            Assert.Equal("1", (await Client.Version.GetCodeAsync()).Major);
            await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ListNamespaceAsync());
        }
        finally { Server.Faults.Reset(); }
    }
}

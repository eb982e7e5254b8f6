using System.Diagnostics;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace DeployPortal.KubeEmulator.Tests;

public sealed class WatchTests() : EmulatorTestBase(o => o.WatchHistorySize = 1000)
{
    private async Task<List<(WatchEventType Type, V1ConfigMap Obj)>> CollectAsync(string selector, string? resourceVersion, int count, int? timeoutSeconds = null)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var events = new List<(WatchEventType, V1ConfigMap)>();
        var watch = Client.CoreV1.WatchListNamespacedConfigMapAsync("default", labelSelector: selector, resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds, cancellationToken: cts.Token);
        await foreach (var (type, item) in watch)
        {
            events.Add((type, item));
            if (events.Count == count)
            {
                break;
            }
        }
        return events;
    }

    private Task<V1ConfigMap> CreateAsync(string name, string suite) =>
        Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["suite"] = suite } } }, "default");

    [Fact]
    public async Task Watch_CreateUpdateDelete_StreamsEventsInOrder()
    {
        var suite = Unique("w");
        var start = (await Client.CoreV1.ListNamespacedConfigMapAsync("default")).Metadata.ResourceVersion;
        var collecting = CollectAsync($"suite={suite}", start, 3);
        await CreateAsync($"{suite}-a", suite);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"x\":\"1\"}}", V1Patch.PatchType.MergePatch), $"{suite}-a", "default");
        await Client.CoreV1.DeleteNamespacedConfigMapAsync($"{suite}-a", "default");

        var events = await collecting;
        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], events.Select(e => e.Type));
        var rvs = events.Select(e => long.Parse(e.Obj.Metadata.ResourceVersion)).ToList();
        Assert.Equal(rvs.Order(), rvs);
        Assert.Equal("1", events[1].Obj.Data["x"]);
    }

    [Fact]
    public async Task Watch_ResumedFromResourceVersion_ReceivesOnlyLaterEventsWithoutGaps()
    {
        var suite = Unique("r");
        var first = await CreateAsync($"{suite}-1", suite);
        var second = await CreateAsync($"{suite}-2", suite);
        var third = await CreateAsync($"{suite}-3", suite);

        var resumed = await CollectAsync($"suite={suite}", first.Metadata.ResourceVersion, 2);
        Assert.Equal([$"{suite}-2", $"{suite}-3"], resumed.Select(e => e.Obj.Metadata.Name));
        Assert.Equal(second.Metadata.ResourceVersion, resumed[0].Obj.Metadata.ResourceVersion);
        Assert.Equal(third.Metadata.ResourceVersion, resumed[1].Obj.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Watch_WithoutResourceVersion_StartsWithSyntheticAddedForExistingObjects()
    {
        var suite = Unique("s");
        await CreateAsync($"{suite}-1", suite);
        await CreateAsync($"{suite}-2", suite);
        var events = await CollectAsync($"suite={suite}", null, 2);
        Assert.All(events, e => Assert.Equal(WatchEventType.Added, e.Type));
    }

    [Fact]
    public async Task Watch_FromCompactedResourceVersion_Gets410GoneErrorEvent()
    {
        var suite = Unique("g");
        var old = await CreateAsync($"{suite}-1", suite);
        await CreateAsync($"{suite}-2", suite);
        Server.CompactWatchHistory();

        using var resp = await Http.GetAsync($"api/v1/namespaces/default/configmaps?watch=true&resourceVersion={old.Metadata.ResourceVersion}", HttpCompletionOption.ResponseHeadersRead);
        var line = await new StreamReader(await resp.Content.ReadAsStreamAsync()).ReadLineAsync();
        using var doc = JsonDocument.Parse(line!);
        Assert.Equal("ERROR", doc.RootElement.GetProperty("type").GetString());
        var status = doc.RootElement.GetProperty("object");
        Assert.Equal(410, status.GetProperty("code").GetInt32());
        Assert.Equal("Expired", status.GetProperty("reason").GetString());
        Assert.StartsWith("too old resource version", status.GetProperty("message").GetString());

        // KubernetesClient surfaces it as an ERROR event carrying the Status.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        // KubernetesClient hands the ERROR event's Status to onError as a KubernetesException.
        var errors = new List<Exception>();
        await foreach (var _ in Client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: old.Metadata.ResourceVersion, onError: errors.Add, cancellationToken: cts.Token))
        { }
        var kex = Assert.IsType<KubernetesException>(Assert.Single(errors));
        Assert.Equal(410, kex.Status.Code);
        Assert.Equal("Expired", kex.Status.Reason);
    }

    [Fact]
    public async Task Watch_TimeoutSeconds_ServerClosesTheStream()
    {
        var suite = Unique("t");
        await CreateAsync($"{suite}-1", suite);
        var sw = Stopwatch.StartNew();
        var events = await CollectAsync($"suite={suite}", null, int.MaxValue, timeoutSeconds: 1);
        Assert.Single(events);
        Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task Watch_TimeoutWithoutAnyEvent_KubernetesClientReportsEndOfStream()
    {
        // A real API server closes an idle watch the same way; KubernetesClient 21 peeks the first line and throws.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var ex = await Record.ExceptionAsync(async () =>
        {
            await foreach (var _ in Client.CoreV1.WatchListNamespacedConfigMapAsync("default", labelSelector: $"suite={Unique("none")}", resourceVersion: "1", timeoutSeconds: 1, cancellationToken: cts.Token))
            { }
        });
        Assert.IsType<HttpRequestException>(ex);
        Assert.IsType<EndOfStreamException>(ex.InnerException);
        Assert.False(cts.IsCancellationRequested);
    }

    [Fact]
    public async Task Watch_DefaultServerTimeout_ClosesTheStream()
    {
        Server.Options.WatchTimeout = TimeSpan.FromMilliseconds(500);
        try
        {
            var sw = Stopwatch.StartNew();
            using var resp = await Http.GetAsync("api/v1/namespaces/default/pods?watch=1&resourceVersion=1", HttpCompletionOption.ResponseHeadersRead);
            var body = await resp.Content.ReadAsStringAsync();
            Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(0.4), TimeSpan.FromSeconds(8));
            Assert.Equal("", body.Trim());
        }
        finally { Server.Options.WatchTimeout = TimeSpan.FromMinutes(30); }
    }

    [Fact]
    public async Task Watch_AllowBookmarks_SendsBookmarkWithCurrentResourceVersion()
    {
        Server.Options.BookmarkInterval = TimeSpan.FromMilliseconds(200);
        using var resp = await Http.GetAsync("api/v1/namespaces/default/secrets?watch=true&allowWatchBookmarks=true&resourceVersion=1&timeoutSeconds=5", HttpCompletionOption.ResponseHeadersRead);
        var line = await new StreamReader(await resp.Content.ReadAsStreamAsync()).ReadLineAsync();
        using var doc = JsonDocument.Parse(line!);
        Assert.Equal("BOOKMARK", doc.RootElement.GetProperty("type").GetString());
        Assert.True(long.Parse(doc.RootElement.GetProperty("object").GetProperty("metadata").GetProperty("resourceVersion").GetString()!) > 1);
    }
}

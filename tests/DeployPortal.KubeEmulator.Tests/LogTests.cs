using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DeployPortal.KubeEmulator.Tests;

public sealed partial class LogTests() : EmulatorTestBase(o => o.LogLinesPerSecond = 200)
{
    [GeneratedRegex(@"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$")]
    private static partial Regex TimestampedLine();

    private async Task<string> ReadyPodAsync(string image = "registry.example/shop:2.1")
    {
        var name = Unique("log");
        await ApplyAsync(Deployment(name, image));
        string? pod = null;
        await Eventually(async () =>
        {
            var p = (await PodsOfAsync(name)).SingleOrDefault();
            pod = p?.Metadata.Name;
            return p?.Status?.ContainerStatuses?.FirstOrDefault()?.Ready == true;
        }, "pod ready");
        return pod!;
    }

    private static async Task<List<string>> ReadLinesAsync(Stream stream, int count, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (lines.Count < count && await reader.ReadLineAsync(cts.Token) is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    private async Task<string> GetTextAsync(string url)
    {
        using var resp = await Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        return await resp.Content.ReadAsStringAsync();
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Logs_Follow_StreamsBannerThenNewLines()
    {
        var pod = await ReadyPodAsync();
        await using var stream = await Client.CoreV1.ReadNamespacedPodLogAsync(pod, "default", follow: true);
        var lines = await ReadLinesAsync(stream, 300);
        Assert.Equal(300, lines.Count);
        Assert.Contains("Starting shop 2.1", lines[0]);
        Assert.Contains(lines, l => l.Contains("responded 200"));
        Assert.Contains(lines, l => l.Contains('\u001b'));            // ANSI colours sometimes
        Assert.Contains(lines, l => l.Contains("warn", StringComparison.Ordinal)); // occasional warnings
    }

    [Fact]
    public async Task Logs_Timestamps_PrefixesEachLineWithRfc3339NanoInIncreasingOrder()
    {
        var pod = await ReadyPodAsync();
        await using var stream = await Client.CoreV1.ReadNamespacedPodLogAsync(pod, "default", follow: true, timestamps: true);
        var lines = await ReadLinesAsync(stream, 50);
        var stamps = lines.Select(l => TimestampedLine().Match(l)).Select(m => { Assert.True(m.Success, "not timestamped"); return m.Groups[1].Value; }).ToList();
        Assert.Equal(stamps.Order(StringComparer.Ordinal), stamps);
        Assert.Equal(stamps.Count, stamps.Distinct().Count());
    }

    [Fact]
    public async Task Logs_TailLines_ReturnsExactlyTheLastLines()
    {
        var pod = await ReadyPodAsync();
        await Eventually(async () => Lines(await GetTextAsync($"api/v1/namespaces/default/pods/{pod}/log")).Length > 20, "20 lines written");
        await using var stream = await Client.CoreV1.ReadNamespacedPodLogAsync(pod, "default", tailLines: 5, timestamps: true);
        var tail = Lines(await new StreamReader(stream).ReadToEndAsync());
        Assert.Equal(5, tail.Length);
        var all = Lines(await GetTextAsync($"api/v1/namespaces/default/pods/{pod}/log?timestamps=true")).ToList();
        var at = all.IndexOf(tail[0]);
        Assert.True(at > 0);
        Assert.Equal(tail, all.Skip(at).Take(5));
    }

    [Fact]
    public async Task Logs_SinceTime_ResumesAFollowWithoutGapsOrDuplicates()
    {
        var pod = await ReadyPodAsync();
        var url = $"api/v1/namespaces/default/pods/{pod}/log?follow=true&timestamps=true";
        List<string> first;
        using (var resp = await Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead))
        {
            first = await ReadLinesAsync(await resp.Content.ReadAsStreamAsync(), 40);
        }

        var last = TimestampedLine().Match(first[^1]).Groups[1].Value;
        // Resume strictly after the last line seen: sinceTime is inclusive, as in kubelet, so add one nanosecond.
        var nanos = long.Parse(last[20..29], CultureInfo.InvariantCulture) + 1;
        var resumeAt = $"{last[..20]}{nanos:D9}Z";
        List<string> second;
        using (var resp = await Http.GetAsync($"{url}&sinceTime={Uri.EscapeDataString(resumeAt)}", HttpCompletionOption.ResponseHeadersRead))
        {
            second = await ReadLinesAsync(await resp.Content.ReadAsStreamAsync(), 40);
        }

        var all = Lines(await GetTextAsync($"api/v1/namespaces/default/pods/{pod}/log?timestamps=true")).ToList();
        var start = all.IndexOf(first[0]);
        Assert.Equal(0, start);
        Assert.Equal(first.Concat(second), all.Take(80));
    }

    [Fact]
    public async Task Logs_SinceSeconds_ReturnsOnlyRecentLines()
    {
        var pod = await ReadyPodAsync();
        await Eventually(async () => Lines(await GetTextAsync($"api/v1/namespaces/default/pods/{pod}/log?timestamps=true")).Length > 500, "more than 2 s of lines");
        var cutoff = DateTime.UtcNow.AddSeconds(-1).AddMilliseconds(-200);
        await using var stream = await Client.CoreV1.ReadNamespacedPodLogAsync(pod, "default", sinceSeconds: 1, timestamps: true);
        var recent = Lines(await new StreamReader(stream).ReadToEndAsync());
        Assert.NotEmpty(recent);
        Assert.All(recent, l => Assert.True(DateTime.Parse(TimestampedLine().Match(l).Groups[1].Value[..27] + "Z", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal) >= cutoff, l));
        var total = Lines(await GetTextAsync($"api/v1/namespaces/default/pods/{pod}/log")).Length;
        Assert.True(recent.Length < total);
    }

    [Fact]
    public async Task Logs_LimitBytes_StopsAfterThatManyBytes()
    {
        var pod = await ReadyPodAsync();
        await using var stream = await Client.CoreV1.ReadNamespacedPodLogAsync(pod, "default", follow: true, limitBytes: 1000);
        using var ms = new MemoryStream();
        await stream.CopyToAsync(ms);
        Assert.Equal(1000, ms.Length);
    }

    [Fact]
    public async Task Logs_Previous_WithoutARestart_Returns400()
    {
        var pod = await ReadyPodAsync();
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReadNamespacedPodLogAsync(pod, "default", previous: true));
        Assert.Equal(HttpStatusCode.BadRequest, ex.Response.StatusCode);
        Assert.Contains("previous terminated container \"app\"", StatusOf(ex).Message);
    }

    [Fact]
    public async Task Logs_ContainerParameter_SelectsContainerAndIsRequiredForMultiContainerPods()
    {
        var name = Unique("multi");
        await Client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = name } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "shop:1" }, new V1Container { Name = "proxy", Image = "nginx:1.27" }] },
        }, "default");
        await Eventually(async () => (await Client.CoreV1.ReadNamespacedPodAsync(name, "default")).Status?.ContainerStatuses?.All(c => c.Ready) == true, "both containers ready");

        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReadNamespacedPodLogAsync(name, "default"));
        Assert.Equal(HttpStatusCode.BadRequest, ex.Response.StatusCode);
        Assert.Contains("a container name must be specified for pod", StatusOf(ex).Message);

        await using var proxy = await Client.CoreV1.ReadNamespacedPodLogAsync(name, "default", container: "proxy");
        Assert.Contains("nginx", await new StreamReader(proxy).ReadToEndAsync());
        var bad = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReadNamespacedPodLogAsync(name, "default", container: "nope"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Response.StatusCode);
    }

    [Fact]
    public async Task Logs_PodStillCreating_Returns400WaitingToStart()
    {
        var name = Unique("pull");
        await ApplyAsync(Deployment(name, "app:pull-error"));
        await Eventually(async () => (await PodsOfAsync(name)).Count == 1, "pod exists");
        var pod = (await PodsOfAsync(name)).Single().Metadata.Name;
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReadNamespacedPodLogAsync(pod, "default"));
        Assert.Equal(HttpStatusCode.BadRequest, ex.Response.StatusCode);
        Assert.Contains("is waiting to start", StatusOf(ex).Message);
    }

    [Fact]
    public async Task Logs_Rotation_DropsOldLinesAndClosesFollowers()
    {
        var pod = await ReadyPodAsync();
        await using var stream = await Client.CoreV1.ReadNamespacedPodLogAsync(pod, "default", follow: true);
        var reader = new StreamReader(stream);
        Assert.NotNull(await reader.ReadLineAsync());
        Assert.Equal(1, Server.RotateLogs("default", pod));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await reader.ReadLineAsync(cts.Token) is not null)
        { } // ends when the server closes the stream
        var after = Lines(await GetTextAsync($"api/v1/namespaces/default/pods/{pod}/log"));
        Assert.DoesNotContain(after, l => l.Contains("Starting shop"));
    }

    [Fact]
    public async Task Logs_FollowOfCrashingContainer_EndsWhenTheContainerExits()
    {
        var name = Unique("crash");
        await ApplyAsync(Deployment(name, "app:crash"));
        string? pod = null;
        await Eventually(async () => (pod = (await PodsOfAsync(name)).SingleOrDefault(p => p.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Running is not null)?.Metadata.Name) is not null, "container running");
        await using var stream = await Client.CoreV1.ReadNamespacedPodLogAsync(pod!, "default", follow: true);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var text = await new StreamReader(stream).ReadToEndAsync(cts.Token);
        Assert.Contains("Unhandled exception", text);
    }
}

using Bunit;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Logs;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace DeployPortal.Web.Tests.Components;

public sealed class LogViewerTests : BunitContext, IAsyncLifetime
{
    private readonly FakeLogSource _logs = new();
    private long _clock = 1_000_000_000;

    public LogViewerTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IPodLogSource>(_logs);
        Services.AddSingleton(TimeProvider.System);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync(); // MudBlazor's services are async-disposable only

    private static PodView Pod(string name) => new(name, "Running", true, 0, null, "web:1", DateTime.UtcNow);

    private IRenderedComponent<LogViewer> RenderViewer(params string[] pods) =>
        Render<LogViewer>(p => p.Add(x => x.Namespace, "slot-qa-1").Add(x => x.App, "web").Add(x => x.Pods, [.. pods.Select(Pod)]));

    private void Write(string pod, params string[] lines)
    {
        foreach (var text in lines)
        {
            _logs.Write(pod, new LogEvent(new LogLine(pod, "web", _clock += 1000, text), LogStreamState.Live));
        }
    }

    private static IReadOnlyList<string> Shown(IRenderedComponent<LogViewer> cut) =>
        [.. cut.FindAll("[data-testid=log-line]").Select(e => e.TextContent)];

    [Fact]
    public void Filter_TypingText_ShowsOnlyMatchingLines_WithTheMatchHighlighted()
    {
        var cut = RenderViewer("web-a");
        Write("web-a", "GET /health 200", "POST /orders 500", "GET /orders 200");
        cut.WaitForAssertion(() => Assert.Equal(3, Shown(cut).Count));

        cut.Find("input[data-testid=log-filter], [data-testid=log-filter] input").Input("orders");

        cut.WaitForAssertion(() => Assert.Equal(2, Shown(cut).Count));
        Assert.All(cut.FindAll("[data-testid=log-line] mark"), m => Assert.Equal("orders", m.TextContent));
        Assert.Contains("2 of 3 lines", cut.Find("[data-testid=log-counts]").TextContent);

        // Lines arriving later are filtered too.
        Write("web-a", "GET /health 200", "DELETE /orders/7 204");
        cut.WaitForAssertion(() => Assert.Equal(3, Shown(cut).Count));
    }

    [Fact]
    public void Follow_ScrollingUp_PausesAndCountsNewLines_AndJumpToLatestFollowsAgain()
    {
        var cut = RenderViewer("web-a");
        Write("web-a", "one", "two");
        cut.WaitForAssertion(() => Assert.Equal(2, Shown(cut).Count));
        Assert.Equal("true", cut.Find("[data-testid=log-lines]").GetAttribute("data-following"));

        cut.InvokeAsync(() => cut.Instance.OnScrolled(atEnd: false));
        cut.WaitForAssertion(() => Assert.Equal("false", cut.Find("[data-testid=log-lines]").GetAttribute("data-following")));

        Write("web-a", "three", "four", "five");
        cut.WaitForAssertion(() => Assert.Equal("Jump to latest (3 new)", cut.Find("[data-testid=log-jump]").TextContent.Trim()));

        cut.Find("[data-testid=log-jump]").Click();
        cut.WaitForAssertion(() => Assert.Equal("true", cut.Find("[data-testid=log-lines]").GetAttribute("data-following")), TimeSpan.FromSeconds(2));
        Assert.Empty(cut.FindAll("[data-testid=log-jump]"));
        Assert.Single(cut.FindAll("[data-testid=log-pause]"));
    }

    [Fact]
    public void State_WhileAStreamReconnects_ShowsReconnecting_UntilItIsLiveAgain()
    {
        var cut = RenderViewer("web-a");
        Write("web-a", "before the drop");
        cut.WaitForAssertion(() => Assert.Single(Shown(cut)));
        Assert.Empty(cut.FindAll("[data-testid=log-state]"));

        _logs.Write("web-a", new LogEvent(null, LogStreamState.Reconnecting));
        cut.WaitForAssertion(() => Assert.Equal("reconnecting…", cut.Find("[data-testid=log-state]").TextContent.Trim()));

        _logs.Write("web-a", new LogEvent(null, LogStreamState.Live));
        Write("web-a", "after the drop");
        cut.WaitForAssertion(() => Assert.Equal(2, Shown(cut).Count));
        Assert.Empty(cut.FindAll("[data-testid=log-state]"));
    }

    [Fact]
    public void AllPods_APodThatAppearsLater_IsFollowedAndMergedByTime()
    {
        var cut = RenderViewer("web-a");
        cut.WaitForAssertion(() => Assert.Contains("web-a", _logs.Subscribed));

        cut.Render(p => p.Add(x => x.Pods, [Pod("web-a"), Pod("web-b")]));
        cut.WaitForAssertion(() => Assert.Contains("web-b", _logs.Subscribed));
        _logs.Write("web-a", new LogEvent(new LogLine("web-a", "web", 3000, "a late"), LogStreamState.Live));
        _logs.Write("web-b", new LogEvent(new LogLine("web-b", "web", 2000, "b early"), LogStreamState.Live));

        cut.WaitForAssertion(() => Assert.Equal(2, Shown(cut).Count));
        Assert.EndsWith("b early", Shown(cut)[0]);
        Assert.Equal("b", cut.FindAll("[data-testid=log-line] .portal-log-pod")[0].TextContent);
    }

    [Fact]
    public void Ansi_ColouredLine_IsStyled_AndMarkupInTheLogStaysText()
    {
        var cut = RenderViewer("web-a");
        Write("web-a", "\u001b[31mfail\u001b[0m <script>alert(1)</script>");

        cut.WaitForAssertion(() => Assert.Single(Shown(cut)));
        Assert.Equal("fail", cut.Find("[data-testid=log-line] .ansi-fg-1").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=log-line] script"));
        Assert.Contains("<script>alert(1)</script>", Shown(cut)[0]);
    }

    [Fact]
    public async Task Dispose_EndsEverySubscription()
    {
        var cut = RenderViewer("web-a", "web-b");
        cut.WaitForAssertion(() => Assert.Equal(2, _logs.Subscribed.Count));

        await DisposeComponentsAsync();

        Assert.Equal(2, _logs.Disposed);
    }

    [Fact]
    public void Previous_ForOnePod_ShowsItsPreviousRunInsteadOfTheLiveStream()
    {
        var cut = RenderViewer("web-a");
        Assert.True(cut.Find("input[data-testid=log-previous], [data-testid=log-previous] input").HasAttribute("disabled"), "previous run needs one pod picked");
        _logs.Previous = [new LogLine("web-a", "web", 10, "Unhandled exception. System.Exception: boom")];

        cut.InvokeAsync(() => cut.Instance.Feed.SelectPod("web-a")); // what picking the pod in the select does
        cut.Render(p => p.Add(x => x.Pods, [Pod("web-a")]));
        cut.WaitForAssertion(() => Assert.False(cut.Find("input[data-testid=log-previous], [data-testid=log-previous] input").HasAttribute("disabled")));
        cut.Find("input[data-testid=log-previous], [data-testid=log-previous] input").Change(true);

        cut.WaitForAssertion(() => Assert.Contains("boom", Assert.Single(Shown(cut))));
        Assert.Single(cut.FindAll("[data-testid=log-previous-note]"));
    }

    [Fact]
    public void Range_ChoosingATail_ShowsThatReadThenOnlyNewerLiveLines_EvenWithSharedTimestamps()
    {
        var cut = RenderViewer("web-a");
        Write("web-a", "from the shared buffer");
        cut.WaitForAssertion(() => Assert.Single(Shown(cut)));
        Assert.Empty(_logs.Reads); // the default needs no read of the cluster
        _logs.History = [new LogLine("web-a", "web", 100, "A"), new LogLine("web-a", "web", 200, "B"), new LogLine("web-a", "web", 200, "C")];

        cut.InvokeAsync(() => cut.Instance.Feed.SelectRange(100, null)); // what picking "last 100 lines" does
        // The hub replays what it has (B and C again), then new lines: D shares C's timestamp.
        foreach (var (nanos, text) in new[] { (200L, "B"), (200L, "C"), (200L, "D"), (300L, "E") })
        {
            _logs.Write("web-a", new LogEvent(new LogLine("web-a", "web", nanos, text), LogStreamState.Live));
        }

        cut.WaitForAssertion(() => Assert.Equal(["A", "B", "C", "D", "E"], Shown(cut).Select(l => l[^1..]).ToList()));
        Assert.Equal(new LogRange(100, null), Assert.Single(_logs.Reads));
    }

    [Fact]
    public void Skipped_WhenTheHubDroppedLinesForASlowPage_SaysHowMany()
    {
        var cut = RenderViewer("web-a");
        cut.WaitForAssertion(() => Assert.Single(_logs.Subscriptions));

        for (var i = 0; i < 3; i++)
        {
            _logs.Subscriptions[0].CountDropped();
        }

        cut.WaitForAssertion(() => Assert.Contains("3 lines skipped", cut.Find("[data-testid=log-skipped]").TextContent));
    }
}

using System.Net;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Logs;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DeployPortal.Web.Tests.Logs;

/// <summary>The log viewer's feed without a renderer: subscriptions, catch-up, resume filtering and draining.</summary>
public sealed class LogFeedTests : IDisposable
{
    private readonly FakeLogSource _logs = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
    private readonly List<string> _warnings = [];
    private readonly List<bool> _dispatched = [];
    private readonly TaskCompletionSource _firstDispatch = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly LogFeed _feed;

    public LogFeedTests()
    {
        // The host's thread is the test's: dispatched work runs at once, and what it returned is kept.
        _feed = new LogFeed(_logs, _clock, NullLogger.Instance, work =>
        {
            _dispatched.Add(work());
            _firstDispatch.TrySetResult();
            return Task.CompletedTask;
        }, _warnings.Add);
    }

    public void Dispose() => _feed.Dispose();

    private static PodView Pod(string name) => new(name, "Running", true, 0, null, "web:1", null);

    private long Nanos(TimeSpan ago) => (_clock.GetUtcNow() - ago - DateTimeOffset.UnixEpoch).Ticks * 100;

    private void Live(string pod, long nanos, string text) => _logs.Write(pod, new LogEvent(new LogLine(pod, "web", nanos, text), LogStreamState.Live));

    private List<string> Shown() => [.. _feed.View.ShownLines.Select(l => l.Text)];

    private void Show(params string[] pods) => _feed.SetSource("slot-qa-1", "web", [.. pods.Select(Pod)]);

    [Fact]
    public void Start_FollowsEveryPod_AndDrainTakesWhatArrived_MergedByTime()
    {
        Show("web-a", "web-b");
        Assert.Empty(_logs.Subscribed); // nothing before the host starts the feed

        _feed.Start();
        Live("web-a", 3000, "a late");
        Live("web-b", 2000, "b early");

        Assert.True(_feed.Drain());
        Assert.Equal(["b early", "a late"], Shown());
        Assert.Equal(["web-a", "web-b"], _logs.Subscribed);
        Assert.False(_feed.Drain()); // nothing new: nothing to render
    }

    [Fact]
    public void SetSource_APodThatAppearsLater_IsFollowed_AndAnotherAppStartsOver()
    {
        Show("web-a");
        _feed.Start();
        Live("web-a", 1000, "one");
        _feed.Drain();

        Show("web-a", "web-b");
        Assert.Equal(["web-a", "web-b"], _logs.Subscribed);

        _feed.SetSource("slot-qa-1", "api", [Pod("api-a")]);
        Assert.Equal(2, _logs.Disposed);
        Assert.Empty(Shown());
        Assert.Equal("api-a", _logs.Subscribed[^1]);
    }

    [Fact]
    public void SelectPod_FollowsOnlyThatPod_AndAsksForAForcedScroll()
    {
        Show("web-a", "web-b");
        _feed.Start();
        _feed.TakeScroll(out _);

        _feed.SelectPod("web-b");

        Assert.Equal(2, _logs.Disposed);
        Assert.Equal(["web-a", "web-b", "web-b"], _logs.Subscribed);
        Assert.True(_feed.TakeScroll(out var force));
        Assert.True(force);
        Assert.False(_feed.TakeScroll(out _)); // asked once
    }

    [Fact]
    public async Task SelectRange_LiveLinesWaitForTheRead_ThenOnlyNewerOnesPass_EvenWithSharedTimestamps()
    {
        Show("web-a");
        _feed.Start();
        _logs.History = [new LogLine("web-a", "web", 100, "A"), new LogLine("web-a", "web", 200, "B"), new LogLine("web-a", "web", 200, "C")];
        _logs.ReadGate = new TaskCompletionSource();

        _feed.SelectRange(100, null);
        // The hub replays what it has (B and C again), then new lines: D shares C's timestamp.
        Live("web-a", 200, "B");
        Live("web-a", 200, "C");
        Live("web-a", 200, "D");
        Assert.False(_feed.Drain()); // still reading: the live lines wait
        Assert.Empty(Shown());

        _logs.ReadGate.SetResult();
        await _firstDispatch.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the read's end comes back through the host's thread
        Assert.Equal([true], _dispatched);
        Assert.Equal(["A", "B", "C", "D"], Shown());

        Live("web-a", 300, "E");
        Assert.True(_feed.Drain());
        Assert.Equal(["A", "B", "C", "D", "E"], Shown());
        Assert.Equal(new LogRange(100, null), Assert.Single(_logs.Reads));
    }

    [Fact]
    public void SelectRange_ByTime_WithNothingRead_KeepsReplayedLinesFromBeforeThatMomentOut()
    {
        Show("web-a");
        _feed.Start();
        _feed.SelectRange(null, TimeSpan.FromMinutes(5));
        Live("web-a", Nanos(TimeSpan.FromMinutes(9)), "too old");
        Live("web-a", Nanos(TimeSpan.FromMinutes(1)), "recent");

        _feed.Drain();

        Assert.Equal(["recent"], Shown());
    }

    [Fact]
    public async Task SelectRange_WhenTheReadFails_WarnsAndShowsLiveLines()
    {
        Show("web-a");
        _feed.Start();
        _logs.ReadGate = new TaskCompletionSource();
        _feed.SelectRange(100, null);
        Live("web-a", 500, "live");

        _logs.ReadGate.SetException(new HttpRequestException("down"));
        await _firstDispatch.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["The earlier lines of web-a could not be read; showing live lines only."], _warnings);
        Assert.Equal(["live"], Shown());
    }

    [Fact]
    public void StreamState_IsTheWorstOfThePodsShown_AndDrainReportsItsChanges()
    {
        Show("web-a", "web-b");
        Assert.Null(_feed.StreamState);
        _feed.Start();
        Assert.Equal(LogStreamState.Connecting, _feed.StreamState);

        _logs.Write("web-a", new LogEvent(null, LogStreamState.Live));
        _logs.Write("web-b", new LogEvent(null, LogStreamState.Live));
        Assert.True(_feed.Drain());
        Assert.Equal(LogStreamState.Live, _feed.StreamState);

        _logs.Write("web-b", new LogEvent(null, LogStreamState.Reconnecting));
        Assert.True(_feed.Drain());
        Assert.Equal(LogStreamState.Reconnecting, _feed.StreamState);
    }

    [Fact]
    public void Skipped_CountsWhatTheHubDroppedForThisFeed()
    {
        Show("web-a");
        _feed.Start();
        _logs.Subscriptions[0].CountDropped();
        _logs.Subscriptions[0].CountDropped();

        Assert.True(_feed.Drain());
        Assert.Equal(2, _feed.Skipped);
    }

    [Fact]
    public async Task ShowPrevious_ReadsThePreviousRunInsteadOfFollowing_AndBackFollowsAgain()
    {
        Show("web-a");
        _feed.Start();
        _feed.SelectPod("web-a");
        _logs.Previous = [new LogLine("web-a", "web", 10, "boom")];

        await _feed.ShowPreviousAsync(true);

        Assert.Equal(["boom"], Shown());
        Assert.Equal(_logs.Subscribed.Count, _logs.Disposed);
        Show("web-a");
        Assert.Equal(_logs.Subscribed.Count, _logs.Disposed); // no live stream while the previous run is shown

        await _feed.ShowPreviousAsync(false);
        Assert.Empty(Shown());
        Assert.Equal(_logs.Subscribed.Count, _logs.Disposed + 1);
    }

    [Fact]
    public async Task ShowPrevious_WhenTheClusterRefuses_SaysWhy()
    {
        Show("web-a");
        _feed.SelectPod("web-a");
        _logs.ReadGate = new TaskCompletionSource();
        _logs.ReadGate.SetException(new ClusterRejectedException("The cluster refused: previous terminated container not found (400 BadRequest).") { StatusCode = HttpStatusCode.BadRequest });

        await _feed.ShowPreviousAsync(true);

        Assert.Equal("The cluster refused: previous terminated container not found (400 BadRequest).", _feed.PreviousError);
    }

    [Fact]
    public void Filter_AppliesToWhatIsShownAndWhatComes()
    {
        Show("web-a");
        _feed.Start();
        Live("web-a", 1000, "GET /health");
        Live("web-a", 2000, "POST /orders");
        _feed.Drain();

        _feed.FilterBy("ORDERS");
        Assert.Equal(["POST /orders"], Shown());
        _feed.SetFilterOptions(matchCase: true);
        Assert.Empty(Shown());
        _feed.SetFilterOptions(matchCase: false, invert: true);
        Assert.Equal(["GET /health"], Shown());
        _feed.FilterBy(null);
        Assert.Equal(2, Shown().Count);
    }

    [Fact]
    public void Scrolled_AwayPausesFollowing_AndBackAtTheEndFollowsAgain()
    {
        Assert.False(_feed.Scrolled(atEnd: true));
        Assert.True(_feed.Scrolled(atEnd: false));
        Assert.False(_feed.View.Following);
        Assert.True(_feed.Scrolled(atEnd: true));
        Assert.True(_feed.View.Following);
    }

    [Fact]
    public void Stop_EndsEverySubscription_AndFollowsNothingMore()
    {
        Show("web-a", "web-b");
        _feed.Start();

        _feed.Stop();
        Show("web-a", "web-b", "web-c");

        Assert.Equal(2, _logs.Disposed);
        Assert.Equal(2, _logs.Subscribed.Count);
    }
}

using DeployPortal.Web.Cluster;

namespace DeployPortal.Web.Logs;

/// <summary>
/// What a log viewer shows and how it gets there, without any UI: the subscriptions to the pods shown (pods that
/// appear later join on their own), the read of an earlier part of the log and the resume filter that lets only
/// newer live lines through after it, the previous run of one pod, and the draining of what arrived into
/// <see cref="View"/> (the host calls <see cref="Drain"/> on its own cadence). Not thread-safe: everything runs on the
/// host's thread, and a read that completes comes back through <c>dispatch</c>, which runs the work there and
/// renders when it returns true. Every subscription ends when the feed is stopped.
/// </summary>
internal sealed class LogFeed(IPodLogSource logs, TimeProvider clock, ILogger logger, Func<Func<bool>, Task> dispatch, Action<string> warn) : IDisposable
{
    public const string AllPods = "*";

    /// <summary>What a viewer starts with by default: the hub's shared buffer of recent lines, no extra read.</summary>
    public const int DefaultTail = 5_000;

    private const int PreviousTail = 10_000;

    private readonly CancellationTokenSource _cts = new();
    private readonly LogFeedPods _pods = new();
    private (string Namespace, string App) _source;
    private IReadOnlyList<PodView>? _known;
    private bool _started;
    private readonly LogScroll _scroll = new();

    /// <summary>The lines, the filter and the follow state.</summary>
    public LogView View { get; } = new();

    /// <summary>The pod shown, or <see cref="AllPods"/>.</summary>
    public string Selected { get; private set; } = AllPods;

    /// <summary>How many lines to start with (null: all the cluster keeps).</summary>
    public int? Tail { get; private set; } = DefaultTail;

    /// <summary>How far back to start (null: any time).</summary>
    public TimeSpan? Since { get; private set; }

    /// <summary>Whether the previous run of the selected pod is shown instead of its live stream.</summary>
    public bool Previous { get; private set; }

    /// <summary>Why the previous run could not be shown.</summary>
    public string? PreviousError { get; private set; }

    /// <summary>Lines the hub had to drop because this viewer fell too far behind.</summary>
    public long Skipped => _pods.Skipped;

    /// <summary>The worst state among the streams shown: reconnecting wins over connecting over live.</summary>
    public LogStreamState? StreamState => _pods.State;

    /// <summary>Whether the feed starts from the hub's recent lines only (no history read).</summary>
    private bool DefaultRange => Tail == DefaultTail && Since is null;

    /// <summary>
    /// The app and its pods as the page knows them. Another app (or namespace) starts over from nothing; new pods
    /// are followed once the feed has started.
    /// </summary>
    public void SetSource(string ns, string app, IReadOnlyList<PodView>? pods)
    {
        _known = pods;
        if ((ns, app) != _source)
        {
            // Another deployment on the same page instance: what was shown belongs to the previous app.
            _source = (ns, app);
            _pods.Clear();
            View.Clear();
            Selected = AllPods;
        }

        if (_started)
        {
            SyncSubscriptions();
        }
    }

    /// <summary>Subscribes to the pods shown; from now on pods that appear are followed too.</summary>
    public void Start()
    {
        _started = true;
        SyncSubscriptions();
    }

    /// <summary>Called when the reader leaves (pause) or reaches (follow) the end of the log; true when that changed anything.</summary>
    public bool Scrolled(bool atEnd)
    {
        if (atEnd == View.Following)
        {
            return false;
        }

        if (atEnd)
        {
            View.Follow();
        }
        else
        {
            View.Pause();
        }

        return true;
    }

    public void JumpToLatest()
    {
        View.Follow();
        _scroll.Force();
    }

    /// <summary>Whether the view should scroll to the newest line (forced: even if the reader scrolled up); asks only once.</summary>
    public bool TakeScroll(out bool force) => _scroll.Take(out force);

    /// <summary>Swaps the live stream of the selected pod for its previous run (a one-off read), and back.</summary>
    public async Task ShowPreviousAsync(bool previous)
    {
        Previous = previous;
        PreviousError = null;
        _pods.Clear();
        View.Clear();
        if (!previous)
        {
            SyncSubscriptions();
            return;
        }

        try
        {
            View.Add(await logs.ReadAsync(new PodLogKey(_source.Namespace, Selected, _source.App), new LogRange(PreviousTail, Previous: true), _cts.Token));
            _scroll.Set(View.Following);
        }
        catch (ClusterRejectedException e)
        {
            PreviousError = e.Message;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Reading the previous log of {Pod} failed", Selected);
            PreviousError = "The previous run's log could not be read right now.";
        }
    }

    /// <summary>Shows one pod (or <see cref="AllPods"/>); what was shown is cleared.</summary>
    public void SelectPod(string value)
    {
        Selected = value;
        Restart();
    }

    /// <summary>Starts over from the chosen number of lines and/or moment (a read of the cluster's log, then live).</summary>
    public void SelectRange(int? tail, TimeSpan? since)
    {
        (Tail, Since) = (tail, since);
        Restart();
    }

    private void Restart()
    {
        Previous = false;
        PreviousError = null;
        _pods.Clear();
        View.Clear();
        // A new choice starts at the newest line, whatever the scroll events of the emptied view said.
        View.Follow();
        _scroll.Force();
        SyncSubscriptions();
    }

    /// <summary>Filters the lines shown, and those to come, by <paramref name="text"/> (null: none).</summary>
    public void FilterBy(string? text) => SetFilter(text ?? "", View.CaseSensitive, View.UseRegex, View.Invert);

    /// <summary>Changes how the filter matches; null keeps that option as it is.</summary>
    public void SetFilterOptions(bool? matchCase = null, bool? regex = null, bool? invert = null) =>
        SetFilter(View.FilterText, matchCase ?? View.CaseSensitive, regex ?? View.UseRegex, invert ?? View.Invert);

    private void SetFilter(string text, bool matchCase, bool regex, bool invert)
    {
        View.SetFilter(text, matchCase, regex, invert);
        _scroll.Set(View.Following);
    }

    /// <summary>Subscribes to the pods to show that are not followed yet (new pods of a rollout join here).</summary>
    private void SyncSubscriptions()
    {
        if (_cts.IsCancellationRequested || _known is null || Previous)
        {
            return;
        }

        var wanted = Selected == AllPods ? _known.Select(p => p.Name) : _known.Where(p => p.Name == Selected).Select(p => p.Name);
        foreach (var name in wanted)
        {
            if (!_pods.Contains(name))
            {
                var key = new PodLogKey(_source.Namespace, name, _source.App);
                var pod = new LogFeedPod(logs.Subscribe(key), catchingUp: !DefaultRange);
                _pods.Add(name, pod);
                if (pod.CatchingUp)
                {
                    // Subscribed first, so nothing written during the read is missed; the read is never awaited here.
                    _ = CatchUpAsync(key, pod, new LogRange(Tail, Since));
                }
            }
        }
    }

    /// <summary>Reads the chosen part of a pod's log, shows it, then lets through only live lines newer than it.</summary>
    private async Task CatchUpAsync(PodLogKey key, LogFeedPod pod, LogRange range)
    {
        IReadOnlyList<LogLine> history = [];
        try
        {
            history = await logs.ReadAsync(key, range, _cts.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Reading the log of {Pod} failed", key.Pod);
            warn($"The earlier lines of {key.Pod} could not be read; showing live lines only.");
        }

        await dispatch(() =>
        {
            if (!_pods.IsCurrent(key.Pod, pod))
            {
                return false; // the reader chose something else meanwhile
            }

            var cursor = new LogCursor();
            foreach (var line in history)
            {
                cursor.Advance(line.UnixNanos);
            }

            // With nothing read, lines the hub replays from before the chosen moment must still stay out.
            var cutoff = Since is { } since ? (clock.GetUtcNow() - since - DateTimeOffset.UnixEpoch).Ticks * 100 : 0;
            pod.CaughtUp(history.Count > 0 ? cursor.Resume() : new LogResumeFilter(cutoff, 0));
            View.Add(history);
            if (View.Following)
            {
                _scroll.Force();
            }

            return Drain();
        });
    }

    /// <summary>Takes what arrived since the last call into the view; true when anything shown changed.</summary>
    public bool Drain()
    {
        var batch = new List<LogLine>();
        var dirty = _pods.Drain(batch);

        if (batch.Count > 0)
        {
            View.Add(batch);
            _scroll.Add(View.Following); // the browser skips it if the reader has just scrolled up
            dirty = true;
        }

        return dirty;
    }

    /// <summary>Cancels the reads and ends every subscription, for good.</summary>
    public void Stop()
    {
        _cts.Cancel();
        _pods.Clear();
    }

    public void Dispose() => _cts.Dispose();
}

using DeployPortal.Web.Cluster;
using DeployPortal.Web.Logs;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace DeployPortal.Web.Components.Shared;

/// <summary>
/// Live logs of an app's pods: one pod, or all of them merged by time (pods that appear later join on their own).
/// Lines are taken from the hub's subscriptions on a 100 ms tick and rendered once per tick at most, whatever the
/// incoming rate; the view model (<see cref="LogView"/>) keeps memory bounded and holds the filter and follow state.
/// Every subscription ends when the component is disposed.
/// </summary>
public sealed partial class LogViewer : IAsyncDisposable
{
    public const string AllPods = "*";
    private static readonly TimeSpan RenderInterval = TimeSpan.FromMilliseconds(100);
    private const int PreviousTail = 10_000;

    /// <summary>What a viewer starts with by default: the hub's shared buffer of recent lines, no extra read.</summary>
    internal const int DefaultTail = 5_000;

    internal static readonly (int? Lines, string Label)[] TailChoices =
        [(100, "last 100 lines"), (1_000, "last 1,000 lines"), (DefaultTail, "last 5,000 lines"), (10_000, "last 10,000 lines"), (100_000, "last 100,000 lines"), (null, "all lines kept")];

    internal static readonly (TimeSpan? Span, string Label)[] SinceChoices =
        [(null, "any time"), (TimeSpan.FromMinutes(5), "last 5 minutes"), (TimeSpan.FromHours(1), "last hour"), (TimeSpan.FromHours(24), "last 24 hours")];

    private readonly CancellationTokenSource _cts = new();
    private readonly Dictionary<string, PodLogSubscription> _subscriptions = [];
    private readonly Dictionary<string, LogStreamState> _states = [];
    // Pods whose history is being read: their live lines wait in the subscription until it is in, then only newer ones pass.
    private readonly HashSet<string> _catchingUp = [];
    private readonly Dictionary<string, LogResumeFilter> _resume = [];
    private int? _tail = DefaultTail;
    private TimeSpan? _since;
    private readonly LogView _view = new();
    private DotNetObjectReference<LogViewer>? _self;
    private IJSObjectReference? _module;
    private ElementReference _scroller;
    private Task? _loop;
    private string _selected = AllPods;
    private string _filter = "";
    private bool _case;
    private bool _regex;
    private bool _invert;
    private bool _timestamps = true;
    private bool _wrap;
    private bool _previous;
    private string? _previousError;
    private bool _scrollToEnd;
    private bool _forceScroll;
    private long _skipped;
    private (string, string) _source;

    /// <summary>The namespace of the slot.</summary>
    [Parameter, EditorRequired] public string Namespace { get; set; } = "";

    /// <summary>The app; also its container's name (the portal applies one container named after the app).</summary>
    [Parameter, EditorRequired] public string App { get; set; } = "";

    /// <summary>The app's pods as the page watches them; null while unknown.</summary>
    [Parameter] public IReadOnlyList<PodView>? Pods { get; set; }

    [Inject] private IPodLogSource Logs { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private ILogger<LogViewer> Logger { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;

    /// <summary>Path of the portal's whole-log download for this app (all pods, or one with <c>?pod=</c>); null hides it.</summary>
    [Parameter] public string? DownloadPath { get; set; }

    private int TailIndex => Array.FindIndex(TailChoices, c => c.Lines == _tail);

    private int SinceIndex => Array.FindIndex(SinceChoices, c => c.Span == _since);

    private string? WholeLogHref => DownloadPath is null ? null
        : _selected == AllPods ? DownloadPath : $"{DownloadPath}?pod={Uri.EscapeDataString(_selected)}";

    /// <summary>Whether the viewer starts from the hub's recent lines only (no history read).</summary>
    private bool DefaultRange => _tail == DefaultTail && _since is null;

    /// <summary>For tests and for the page: the model behind what is shown.</summary>
    internal LogView View => _view;

    /// <summary>The worst state among the streams shown: reconnecting wins over connecting over live.</summary>
    internal LogStreamState? StreamState =>
        _states.Count == 0 ? null
        : _states.ContainsValue(LogStreamState.Reconnecting) ? LogStreamState.Reconnecting
        : _states.ContainsValue(LogStreamState.Connecting) ? LogStreamState.Connecting
        : _states.ContainsValue(LogStreamState.Live) ? LogStreamState.Live
        : LogStreamState.Ended;

    protected override void OnParametersSet()
    {
        if ((Namespace, App) != _source)
        {
            // Another deployment on the same page instance: what was shown belongs to the previous app.
            _source = (Namespace, App);
            Unsubscribe();
            _view.Clear();
            _selected = AllPods;
        }

        if (_loop is not null)
        {
            SyncSubscriptions();
        }
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender && RendererInfo.IsInteractive)
        {
            // Streams start after the first render and are never awaited here; the tick loop ends with _cts.
            SyncSubscriptions();
            _loop = TickAsync(_cts.Token);
            try
            {
                _self = DotNetObjectReference.Create(this);
                _module = await JS.InvokeAsync<IJSObjectReference>("import", _cts.Token, "./" + Assets["js/logviewer.js"]);
                if (_module is not null)
                {
                    await _module.InvokeVoidAsync("attach", _cts.Token, _scroller, _self);
                }
            }
            catch (Exception ex) when (ex is JSException or JSDisconnectedException or OperationCanceledException)
            {
                // Without the helper the view still works; it just does not auto-scroll.
            }
        }

        if (_scrollToEnd && _module is not null)
        {
            var force = _forceScroll;
            _scrollToEnd = _forceScroll = false;
            try
            {
                await _module.InvokeVoidAsync("scrollToEnd", _cts.Token, _scroller, force);
            }
            catch (Exception ex) when (ex is JSException or JSDisconnectedException or OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Called by the scroll helper when the person leaves or reaches the end of the log.</summary>
    [JSInvokable]
    public Task OnScrolled(bool atEnd) => InvokeAsync(() =>
    {
        if (!atEnd && _view.Following)
        {
            _view.Pause();
            StateHasChanged();
        }
        else if (atEnd && !_view.Following)
        {
            _view.Follow();
            StateHasChanged();
        }
    });

    private void PauseFollowing() => _view.Pause();

    private void JumpToLatest()
    {
        _view.Follow();
        _scrollToEnd = _forceScroll = true;
    }

    /// <summary>Swaps the live stream of the selected pod for its previous run (a one-off read), and back.</summary>
    private async Task ShowPreviousAsync(bool previous)
    {
        _previous = previous;
        _previousError = null;
        Unsubscribe();
        _view.Clear();
        if (!previous)
        {
            SyncSubscriptions();
            return;
        }

        try
        {
            _view.Add(await Logs.ReadAsync(new PodLogKey(Namespace, _selected, App), new LogRange(PreviousTail, Previous: true), _cts.Token));
            _scrollToEnd = _view.Following;
        }
        catch (ClusterRejectedException e)
        {
            _previousError = e.Message;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Logger.LogWarning(e, "Reading the previous log of {Pod} failed", _selected);
            _previousError = "The previous run's log could not be read right now.";
        }
    }

    /// <summary>Shows one pod (or <see cref="AllPods"/>); what was shown is cleared.</summary>
    internal void SelectPod(string value)
    {
        _selected = value;
        Restart();
    }

    /// <summary>Starts over from the chosen number of lines and/or moment (a read of the cluster's log, then live).</summary>
    internal void SelectRange(int? tail, TimeSpan? since)
    {
        (_tail, _since) = (tail, since);
        Restart();
    }

    private void Restart()
    {
        _previous = false;
        _previousError = null;
        Unsubscribe();
        _view.Clear();
        // A new choice starts at the newest line, whatever the scroll events of the emptied view said.
        _view.Follow();
        _scrollToEnd = _forceScroll = true;
        SyncSubscriptions();
    }

    private void FilterChanged(string? value)
    {
        _filter = value ?? "";
        ApplyFilter();
    }

    private void SetOption(ref bool option, bool value)
    {
        option = value;
        ApplyFilter();
    }

    private void ApplyFilter()
    {
        _view.SetFilter(_filter, _case, _regex, _invert);
        _scrollToEnd = _view.Following;
    }

    private void Unsubscribe()
    {
        foreach (var subscription in _subscriptions.Values)
        {
            subscription.Dispose();
        }

        _subscriptions.Clear();
        _states.Clear();
        _catchingUp.Clear();
        _resume.Clear();
        _skipped = 0;
    }

    /// <summary>Subscribes to the pods to show that are not followed yet (new pods of a rollout join here).</summary>
    private void SyncSubscriptions()
    {
        if (_cts.IsCancellationRequested || Pods is null || _previous)
        {
            return;
        }

        var wanted = _selected == AllPods ? Pods.Select(p => p.Name) : Pods.Where(p => p.Name == _selected).Select(p => p.Name);
        foreach (var pod in wanted)
        {
            if (!_subscriptions.ContainsKey(pod))
            {
                var key = new PodLogKey(Namespace, pod, App);
                var subscription = Logs.Subscribe(key);
                _subscriptions[pod] = subscription;
                _states[pod] = LogStreamState.Connecting;
                if (!DefaultRange)
                {
                    // Subscribed first, so nothing written during the read is missed; the read is never awaited here.
                    _catchingUp.Add(pod);
                    _ = CatchUpAsync(key, subscription, new LogRange(_tail, _since));
                }
            }
        }
    }

    /// <summary>Reads the chosen part of a pod's log, shows it, then lets through only live lines newer than it.</summary>
    private async Task CatchUpAsync(PodLogKey key, PodLogSubscription subscription, LogRange range)
    {
        IReadOnlyList<LogLine> history = [];
        try
        {
            history = await Logs.ReadAsync(key, range, _cts.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception e)
        {
            Logger.LogWarning(e, "Reading the log of {Pod} failed", key.Pod);
            Snackbar.Add($"The earlier lines of {key.Pod} could not be read; showing live lines only.", Severity.Warning);
        }

        await InvokeAsync(() =>
        {
            if (!_subscriptions.TryGetValue(key.Pod, out var current) || !ReferenceEquals(current, subscription))
            {
                return; // the reader chose something else meanwhile
            }

            var cursor = new LogCursor();
            foreach (var line in history)
            {
                cursor.Advance(line.UnixNanos);
            }

            // With nothing read, lines the hub replays from before the chosen moment must still stay out.
            var cutoff = _since is { } since ? (Clock.GetUtcNow() - since - DateTimeOffset.UnixEpoch).Ticks * 100 : 0;
            _resume[key.Pod] = history.Count > 0 ? cursor.Resume() : new LogResumeFilter(cutoff, 0);
            _catchingUp.Remove(key.Pod);
            _view.Add(history);
            if (_view.Following)
            {
                _scrollToEnd = _forceScroll = true;
            }

            Drain();
        });
    }

    private async Task TickAsync(CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(RenderInterval);
            while (await timer.WaitForNextTickAsync(ct))
            {
                await InvokeAsync(Drain);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            Logger.LogWarning(ex, "The log viewer for {App} in {Namespace} stopped", App, Namespace);
        }
    }

    /// <summary>On the renderer's thread: takes what arrived since the last tick and renders once.</summary>
    internal void Drain()
    {
        var batch = new List<LogLine>();
        var changed = false;
        foreach (var (pod, subscription) in _subscriptions)
        {
            if (_catchingUp.Contains(pod))
            {
                continue;
            }

            var resuming = _resume.TryGetValue(pod, out var resume);
            while (subscription.Reader.TryRead(out var e))
            {
                if (e.Line is { } line && (!resuming || resume.IsNew(line.UnixNanos)))
                {
                    batch.Add(line);
                }

                if (_states.GetValueOrDefault(pod) != e.State)
                {
                    _states[pod] = e.State;
                    changed = true;
                }
            }

            if (resuming)
            {
                _resume[pod] = resume; // the filter counts what it skipped
            }
        }

        // Lines the hub had to drop because this page fell too far behind: rare, but never silent.
        var skipped = _subscriptions.Values.Sum(s => s.Dropped);
        if (skipped != _skipped)
        {
            _skipped = skipped;
            changed = true;
        }

        if (batch.Count > 0)
        {
            _view.Add(batch);
            _scrollToEnd |= _view.Following; // the browser skips it if the reader has just scrolled up
            changed = true;
        }

        if (changed)
        {
            StateHasChanged();
        }
    }

    private string ShortName(string pod) =>
        pod.StartsWith(App + "-", StringComparison.Ordinal) && pod.Length > App.Length + 1 ? pod[(App.Length + 1)..] : pod;

    private string ShownText() => LogView.ToText(_view.ShownLines, _timestamps, _selected == AllPods);

    private async Task CopyAsync()
    {
        try
        {
            if (_module is not null)
            {
                await _module.InvokeVoidAsync("copy", _cts.Token, ShownText());
                Snackbar.Add($"Copied {_view.ShownLines.Count:N0} lines.", Severity.Info);
            }
        }
        catch (JSException)
        {
            Snackbar.Add("The browser did not allow copying; use Download instead.", Severity.Warning);
        }
    }

    private async Task DownloadAsync()
    {
        if (_module is null)
        {
            return;
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(ShownText());
        using var stream = new DotNetStreamReference(new MemoryStream(bytes));
        await _module.InvokeVoidAsync("download", _cts.Token, $"{App}-{Namespace}-{Clock.GetUtcNow():yyyyMMdd-HHmmss}.log", stream);
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        Unsubscribe();
        if (_loop is not null)
        {
            await _loop;
        }

        if (_module is not null)
        {
            try
            {
                await _module.InvokeVoidAsync("detach", _scroller);
                await _module.DisposeAsync();
            }
            catch (Exception ex) when (ex is JSException or JSDisconnectedException or OperationCanceledException)
            {
            }
        }

        _self?.Dispose();
        _cts.Dispose();
    }
}

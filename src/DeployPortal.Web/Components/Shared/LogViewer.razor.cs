using DeployPortal.Web.Cluster;
using DeployPortal.Web.Logs;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace DeployPortal.Web.Components.Shared;

/// <summary>
/// Live logs of an app's pods: one pod, or all of them merged by time. What is shown and how it arrives is the
/// <see cref="LogFeed"/>'s business; this component drains it on a 100 ms tick and renders once per tick at most,
/// whatever the incoming rate, and keeps the scroll helper (auto-scroll, copy, download) in the browser.
/// Every subscription ends when the component is disposed.
/// </summary>
public sealed partial class LogViewer : IAsyncDisposable
{
    public const string AllPods = LogFeed.AllPods;
    private static readonly TimeSpan RenderInterval = TimeSpan.FromMilliseconds(100);

    internal static readonly (int? Lines, string Label)[] TailChoices =
        [(100, "last 100 lines"), (1_000, "last 1,000 lines"), (LogFeed.DefaultTail, "last 5,000 lines"), (10_000, "last 10,000 lines"), (100_000, "last 100,000 lines"), (null, "all lines kept")];

    internal static readonly (TimeSpan? Span, string Label)[] SinceChoices =
        [(null, "any time"), (TimeSpan.FromMinutes(5), "last 5 minutes"), (TimeSpan.FromHours(1), "last hour"), (TimeSpan.FromHours(24), "last 24 hours")];

    private readonly CancellationTokenSource _cts = new();
    private LogFeed? _feed;
    private DotNetObjectReference<LogViewer>? _self;
    private IJSObjectReference? _module;
    private ElementReference _scroller;
    private Task? _loop;
    private bool _timestamps = true;
    private bool _wrap;

    /// <summary>The namespace of the slot.</summary>
    [Parameter, EditorRequired] public string Namespace { get; set; } = "";

    /// <summary>The app; also its container's name (the portal applies one container named after the app).</summary>
    [Parameter, EditorRequired] public string App { get; set; } = "";

    /// <summary>The app's pods as the page watches them; null while unknown.</summary>
    [Parameter] public IReadOnlyList<PodView>? Pods { get; set; }

    /// <summary>Path of the portal's whole-log download for this app (all pods, or one with <c>?pod=</c>); null hides it.</summary>
    [Parameter] public string? DownloadPath { get; set; }

    [Inject] private IPodLogSource Logs { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private ILogger<LogViewer> Logger { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;

    /// <summary>For tests and for the page: the feed behind what is shown.</summary>
    internal LogFeed Feed => _feed ??= new LogFeed(Logs, Clock, Logger, Dispatch, message => Snackbar.Add(message, Severity.Warning));

    private LogView View => Feed.View;

    private int TailIndex => Array.FindIndex(TailChoices, c => c.Lines == Feed.Tail);

    private int SinceIndex => Array.FindIndex(SinceChoices, c => c.Span == Feed.Since);

    private string? WholeLogHref => DownloadPath is null ? null
        : Feed.Selected == AllPods ? DownloadPath : $"{DownloadPath}?pod={Uri.EscapeDataString(Feed.Selected)}";

    protected override void OnParametersSet() => Feed.SetSource(Namespace, App, Pods);

    /// <summary>Shows one pod's previous run (before its last restart): what a crash reason's button asks for.</summary>
    public async Task ShowPreviousRunAsync(string pod)
    {
        Feed.SelectPod(pod);
        await Feed.ShowPreviousAsync(true);
        StateHasChanged();
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender && RendererInfo.IsInteractive)
        {
            // Streams start after the first render and are never awaited here; the tick loop ends with _cts.
            Feed.Start();
            _loop = TickAsync(_cts.Token);
            try
            {
                _self = DotNetObjectReference.Create(this);
                _module = await JS.InvokeAsync<IJSObjectReference>("import", _cts.Token, "./" + Assets["js/logviewer.js"]);
                if (_module is not null)
                {
                    await _module.InvokeVoidAsync("attach", _cts.Token, _scroller, _self);
                    if (await _module.InvokeAsync<bool>("narrow", _cts.Token))
                    {
                        _wrap = true; // a phone: wrap on by default (the box still turns it off)
                        StateHasChanged();
                    }
                }
            }
            catch (Exception ex) when (ex is JSException or JSDisconnectedException or OperationCanceledException)
            {
                // Without the helper the view still works; it just does not auto-scroll.
            }
        }

        if (_module is not null && Feed.TakeScroll(out var force))
        {
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
        if (Feed.Scrolled(atEnd))
        {
            StateHasChanged();
        }
    });

    /// <summary>Runs the feed's work on the renderer's thread and renders once if it changed what is shown.</summary>
    private Task Dispatch(Func<bool> work) => InvokeAsync(() =>
    {
        if (work())
        {
            StateHasChanged();
        }
    });

    private async Task TickAsync(CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(RenderInterval);
            while (await timer.WaitForNextTickAsync(ct))
            {
                await Dispatch(Feed.Drain);
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

    private string ShortName(string pod) =>
        pod.StartsWith(App + "-", StringComparison.Ordinal) && pod.Length > App.Length + 1 ? pod[(App.Length + 1)..] : pod;

    private string ShownText() => LogView.ToText(View.ShownLines, _timestamps, Feed.Selected == AllPods);

    private async Task CopyAsync()
    {
        try
        {
            if (_module is not null)
            {
                await _module.InvokeVoidAsync("copy", _cts.Token, ShownText());
                Snackbar.Add($"Copied {View.ShownLines.Count:N0} lines.", Severity.Info);
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
        _feed?.Stop();
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
        _feed?.Dispose();
        _cts.Dispose();
    }
}

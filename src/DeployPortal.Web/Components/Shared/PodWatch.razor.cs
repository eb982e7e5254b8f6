using DeployPortal.Web.Cluster;
using Microsoft.AspNetCore.Components;

namespace DeployPortal.Web.Components.Shared;

/// <summary>What <see cref="PodWatch"/> knows: the pods (null until the cluster answered) or why it cannot say.</summary>
public sealed record PodsState(IReadOnlyList<PodView>? Pods, string? Error);

/// <summary>
/// Watches an app's pods in a namespace while the page is open and renders its content with the latest
/// snapshot. The watch starts after the first interactive render (never awaited in a lifecycle method), bursts
/// of pod events are batched to a few renders a second, and leaving the page cancels it.
/// </summary>
public sealed partial class PodWatch : IAsyncDisposable
{
    private static readonly TimeSpan RenderInterval = TimeSpan.FromMilliseconds(200);
    private readonly CancellationTokenSource _cts = new();
    private CancellationTokenSource? _current;
    private Task? _watch;
    private (string, string) _source;
    private IReadOnlyList<PodView>? _pods;
    private string? _error;

    [Parameter, EditorRequired] public string Namespace { get; set; } = "";

    [Parameter, EditorRequired] public string App { get; set; } = "";

    [Parameter] public RenderFragment<PodsState>? ChildContent { get; set; }

    [Inject] private PodWatcher Watcher { get; set; } = default!;
    [Inject] private ILogger<PodWatch> Logger { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;

    protected override async Task OnParametersSetAsync()
    {
        if (_watch is not null && (Namespace, App) != _source)
        {
            await StopAsync();
            Start();
        }
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && RendererInfo.IsInteractive)
        {
            Start();
        }
    }

    private void Start()
    {
        _source = (Namespace, App);
        (_pods, _error) = (null, null);
        _current = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
        _watch = WatchAsync(Namespace, App, _current.Token);
    }

    private async Task WatchAsync(string ns, string app, CancellationToken ct)
    {
        try
        {
            var lastRender = DateTimeOffset.MinValue;
            Task trailing = Task.CompletedTask;
            await foreach (var pods in Watcher.WatchPodsAsync(ns, app, ct))
            {
                (_pods, _error) = (pods, null);
                var now = Clock.GetUtcNow();
                if (now - lastRender >= RenderInterval)
                {
                    lastRender = now;
                    await InvokeAsync(StateHasChanged);
                }
                else if (trailing.IsCompleted)
                {
                    // The last update of a burst (often the pod turning Ready) must show even when nothing follows it.
                    lastRender += RenderInterval;
                    trailing = RenderAfterAsync(lastRender - now, ct);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            Logger.LogWarning(ex, "Watching the pods of {App} in {Namespace} failed", app, ns);
            _error = "The cluster's pod list is not available right now.";
            await InvokeAsync(StateHasChanged);
        }
    }

    private async Task RenderAfterAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, Clock, ct);
            await InvokeAsync(StateHasChanged);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task StopAsync()
    {
        if (_current is null)
        {
            return;
        }

        await _current.CancelAsync();
        try
        {
            await _watch!;
        }
        catch (OperationCanceledException)
        {
        }

        _current.Dispose();
        _current = null;
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        await StopAsync();
        _cts.Dispose();
    }
}

using System.Collections.Immutable;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Tells every open page that a slot changed. Singleton; subscriptions are disposable and must be
/// disposed when the page goes away. Handlers run off the publisher's path (fire and forget), so the
/// action that published never waits for, or fails because of, a page. Components marshal with
/// <c>InvokeAsync</c>.
/// </summary>
internal sealed class SlotChangeNotifier(ILogger<SlotChangeNotifier> logger)
{
    private ImmutableArray<Func<SlotChange, Task>> _handlers = [];
    private long _version;

    public int SubscriberCount => _handlers.Length;

    /// <summary>Changes published so far; a board read taken at one version is stale at the next (<see cref="BoardSnapshot"/>).</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>True between <see cref="SlotChange.Paused"/> and the next <see cref="SlotChange.Resync"/>, for pages opened meanwhile.</summary>
    public bool LivePaused => Volatile.Read(ref _paused);

    private bool _paused;

    public IDisposable Subscribe(Func<SlotChange, Task> handler)
    {
        ImmutableInterlocked.Update(ref _handlers, static (list, h) => list.Add(h), handler);
        return new Subscription(() => ImmutableInterlocked.Update(ref _handlers, static (list, h) => list.Remove(h), handler));
    }

    /// <summary>
    /// For a component: <paramref name="handler"/> runs through <paramref name="invoke"/> (the component's
    /// <c>InvokeAsync</c>, so on its dispatcher), and never once the subscription is disposed, even for a change already
    /// on its way. Dispose it from the component's Dispose, which runs on the same dispatcher.
    /// </summary>
    public IDisposable SubscribeComponent(Func<Func<Task>, Task> invoke, Func<SlotChange, Task> handler)
    {
        var subscription = new ComponentSubscription();
        subscription.Inner = Subscribe(change => invoke(() => subscription.Disposed ? Task.CompletedTask : handler(change)));
        return subscription;
    }

    private sealed class ComponentSubscription : IDisposable
    {
        public IDisposable? Inner { get; set; }

        public bool Disposed { get; private set; }

        public void Dispose()
        {
            Disposed = true;
            Inner?.Dispose();
        }
    }

    private volatile Action<SlotChange>? _relay;
    private volatile Func<Task>? _beforeTelling;

    /// <summary>
    /// Also hands every change published here to <paramref name="relay"/>, which must not block: the
    /// PostgreSQL fan-out that tells the other portal replicas.
    /// </summary>
    internal void RelayTo(Action<SlotChange> relay) => _relay = relay;

    /// <summary>
    /// Runs <paramref name="prepare"/> after each change is counted and before any subscriber hears of it: the
    /// <see cref="BoardSnapshot"/> reads the board once, so thousands of open boards find it ready rather than each
    /// awaiting the same read. Subscribers are told even when it fails (they then read, and report, for themselves).
    /// </summary>
    internal void PrepareWith(Func<Task> prepare) => _beforeTelling = prepare;

    /// <summary>How long subscribers wait for the preparation before they are told anyway.</summary>
    internal TimeSpan PrepareTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public void Publish(SlotChange change)
    {
        PublishLocal(change);
        _relay?.Invoke(change);
    }

    /// <summary>Tells this process's pages only: for changes another replica made (and already told its own pages).</summary>
    internal void PublishLocal(SlotChange change)
    {
        if (change.IsPaused || change.IsResync)
        {
            Volatile.Write(ref _paused, change.IsPaused);
        }

        // Before any handler runs, so a page that reloads on this change never gets a board read before it.
        Interlocked.Increment(ref _version);
        if (_beforeTelling is { } prepare && !_handlers.IsEmpty)
        {
            _ = PrepareThenTellAsync(prepare, change);
        }
        else
        {
            Tell(change);
        }
    }

    private async Task PrepareThenTellAsync(Func<Task> prepare, SlotChange change)
    {
        try
        {
            // Not on the publisher's thread, which goes on with its own work; and a database that hangs delays pages only so long.
            await Task.Run(prepare).WaitAsync(PrepareTimeout);
        }
        catch (Exception ex)
        {
            logger.LogDebug(ex, "Preparing for {Change} failed or took too long; subscribers read for themselves", change);
        }

        Tell(change);
    }

    private void Tell(SlotChange change)
    {
        foreach (var handler in _handlers)
        {
            // On the thread pool: a circuit whose dispatcher is idle would otherwise render inline, on this thread. Without the
            // publisher's execution context (nothing a page needs) and without a Task per page, as there can be thousands.
            ThreadPool.UnsafeQueueUserWorkItem(static work => _ = work.Notifier.InvokeAsync(work.Handler, work.Change),
                (Notifier: this, Handler: handler, Change: change), preferLocal: false);
        }
    }

    private async Task InvokeAsync(Func<SlotChange, Task> handler, SlotChange change)
    {
        try
        {
            await handler(change);
        }
        catch (OperationCanceledException)
        {
            // The page closed while it reloaded (its Dispose cancels what it awaits): nothing failed.
            logger.LogDebug("A slot change subscriber was cancelled for {Change}", change);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "A slot change subscriber failed for {Change}", change);
        }
    }
}

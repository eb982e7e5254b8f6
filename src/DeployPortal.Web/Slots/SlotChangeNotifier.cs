using System.Collections.Immutable;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Tells every open page that a slot changed. Singleton; subscriptions are disposable and must be
/// disposed when the page goes away. Handlers run off the publisher's path (fire and forget), so the
/// action that published never waits for, or fails because of, a page. Components marshal with
/// <c>InvokeAsync</c>.
/// </summary>
public sealed class SlotChangeNotifier(ILogger<SlotChangeNotifier> logger)
{
    private ImmutableArray<Func<SlotChange, Task>> _handlers = [];
    private long _version;

    public int SubscriberCount => _handlers.Length;

    /// <summary>Changes published so far; a board read taken at one version is stale at the next (<see cref="BoardSnapshot"/>).</summary>
    public long Version => Interlocked.Read(ref _version);

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

    /// <summary>
    /// Also hands every change published here to <paramref name="relay"/>, which must not block: the
    /// PostgreSQL fan-out that tells the other portal replicas.
    /// </summary>
    internal void RelayTo(Action<SlotChange> relay) => _relay = relay;

    public void Publish(SlotChange change)
    {
        PublishLocal(change);
        _relay?.Invoke(change);
    }

    /// <summary>Tells this process's pages only: for changes another replica made (and already told its own pages).</summary>
    internal void PublishLocal(SlotChange change)
    {
        // Before any handler runs, so a page that reloads on this change never gets a board read before it.
        Interlocked.Increment(ref _version);
        foreach (var handler in _handlers)
        {
            // On the thread pool: a circuit whose dispatcher is idle would otherwise render inline, on the publisher's thread.
            _ = Task.Run(() => InvokeAsync(handler, change));
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

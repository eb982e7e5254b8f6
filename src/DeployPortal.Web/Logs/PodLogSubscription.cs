using System.Threading.Channels;

namespace DeployPortal.Web.Logs;

/// <summary>
/// One viewer's share of a stream. <see cref="Reader"/> first yields the current state and the hub's recent
/// lines, then every new line and state change, in order. Disposing unsubscribes and completes the reader;
/// it is the only thing a viewer must do to stop (a reader blocked in <c>ReadAsync</c> wakes up and ends).
/// </summary>
public sealed class PodLogSubscription(PodLogKey key, ChannelReader<LogEvent> reader, Action? unsubscribe) : IDisposable
{
    private Action? _unsubscribe = unsubscribe;
    private long _dropped;

    public PodLogKey Key => key;

    public ChannelReader<LogEvent> Reader => reader;

    /// <summary>Events this subscriber lost because it fell further behind than <see cref="LogOptions.SubscriberQueue"/>.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    internal void CountDropped() => Interlocked.Increment(ref _dropped);

    public void Dispose() => Interlocked.Exchange(ref _unsubscribe, null)?.Invoke();
}

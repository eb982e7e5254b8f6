using System.Collections.Immutable;
using System.Threading.Channels;

namespace DeployPortal.Web.Logs;

/// <summary>
/// One container's stream shared by its viewers: every line and state change goes to each subscriber's bounded
/// queue, and a ring of recent lines lets a late viewer catch up. <see cref="LogOptions.IdleGrace"/> after the last
/// subscriber leaves, it asks to be closed (unless somebody joined meanwhile). Thread-safe.
/// </summary>
internal sealed class PodLogFanOut(PodLogKey key, LogOptions options, CancellationToken stopping, Action<PodLogFanOut> closeWhenIdle) : IPodLogSink
{
    private readonly object _gate = new();
    private readonly LogLine[] _ring = new LogLine[Math.Max(1, options.BufferLines)];
    private readonly CancellationTokenSource _cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
    private int _ringStart;
    private int _ringCount;
    private ImmutableArray<(PodLogSubscription Subscription, ChannelWriter<LogEvent> Writer)> _subscribers = [];
    private LogStreamState _state = LogStreamState.Connecting;
    private CancellationTokenSource? _idle;
    private bool _retired;
    private Task _pump = Task.CompletedTask;

    public PodLogKey Key => key;

    /// <summary>Starts feeding the stream from its upstream follow, until the fan-out is retired or stopped.</summary>
    public void Start(PodLogFollower follower) => _pump = Task.Run(() => follower.FollowAsync(key, this, _cts.Token));

    public PodLogSubscription Add()
    {
        PodLogSubscription subscription = null!;
        var channel = Channel.CreateBounded<LogEvent>(
            new BoundedChannelOptions(Math.Max(options.SubscriberQueue, _ring.Length + 16)) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => subscription.CountDropped());
        subscription = new PodLogSubscription(key, channel.Reader, () => Remove(subscription, channel.Writer));
        lock (_gate)
        {
            _idle?.Cancel();
            _idle = null;
            // Replayed and published under the same lock, so a late viewer gets neither a gap nor a repeat.
            channel.Writer.TryWrite(new LogEvent(null, _state));
            for (var i = 0; i < _ringCount; i++)
            {
                channel.Writer.TryWrite(new LogEvent(_ring[(_ringStart + i) % _ring.Length], _state));
            }

            _subscribers = _subscribers.Add((subscription, channel.Writer));
        }

        return subscription;
    }

    private void Remove(PodLogSubscription subscription, ChannelWriter<LogEvent> writer)
    {
        writer.TryComplete();
        CancellationTokenSource idle;
        lock (_gate)
        {
            _subscribers = _subscribers.RemoveAll(s => ReferenceEquals(s.Subscription, subscription));
            if (_subscribers.Length > 0 || _retired)
            {
                return;
            }

            _idle?.Cancel();
            _idle = idle = new CancellationTokenSource();
        }

        _ = CloseWhenIdleAsync(idle.Token);
    }

    private async Task CloseWhenIdleAsync(CancellationToken rejoined)
    {
        try
        {
            await Task.Delay(options.IdleGrace, rejoined);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        closeWhenIdle(this);
    }

    /// <summary>Called under the hub's lock: true (and stopping) when nobody rejoined.</summary>
    public bool TryRetire()
    {
        lock (_gate)
        {
            if (_subscribers.Length > 0 || _retired)
            {
                return false;
            }

            _retired = true;
        }

        _cts.Cancel();
        return true;
    }

    /// <summary>Stops the upstream and ends every subscriber's reader with <see cref="LogStreamState.Ended"/>.</summary>
    public async Task StopAsync()
    {
        await _cts.CancelAsync();
        await _pump;
        lock (_gate)
        {
            foreach (var (_, writer) in _subscribers)
            {
                writer.TryWrite(new LogEvent(null, LogStreamState.Ended));
                writer.TryComplete();
            }
        }
    }

    public void Publish(LogLine line)
    {
        lock (_gate)
        {
            if (_ringCount < _ring.Length)
            {
                _ring[(_ringStart + _ringCount++) % _ring.Length] = line;
            }
            else
            {
                _ring[_ringStart] = line;
                _ringStart = (_ringStart + 1) % _ring.Length;
            }

            var e = new LogEvent(line, _state);
            foreach (var (_, writer) in _subscribers)
            {
                writer.TryWrite(e);
            }
        }
    }

    public void SetState(LogStreamState state)
    {
        lock (_gate)
        {
            if (_state == state)
            {
                return;
            }

            _state = state;
            foreach (var (_, writer) in _subscribers)
            {
                writer.TryWrite(new LogEvent(null, state));
            }
        }
    }
}

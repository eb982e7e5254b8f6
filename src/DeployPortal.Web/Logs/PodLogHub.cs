using System.Collections.Immutable;
using System.Net;
using System.Threading.Channels;
using DeployPortal.Web.Cluster;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Logs;

/// <summary>Where viewers get log lines from; the hub in the app, a channel-fed fake in component tests.</summary>
public interface IPodLogSource
{
    /// <summary>See <see cref="PodLogHub.Subscribe"/>.</summary>
    PodLogSubscription Subscribe(PodLogKey key);

    /// <summary>See <see cref="PodLogHub.ReadAsync"/>.</summary>
    Task<IReadOnlyList<LogLine>> ReadAsync(PodLogKey key, LogRange range, CancellationToken ct);
}

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

/// <summary>
/// Fan-out of pod logs: one upstream follow (timestamps on) per pod and container, however many pages view it,
/// with a ring of recent lines for late viewers. A dropped follow (network, API server timeout, rotation,
/// container restart) is reopened with <c>sinceTime</c> = the last line's timestamp, and the lines already delivered
/// are skipped (<see cref="LogCursor"/>), so viewers see no gap and no duplicate; they see
/// <see cref="LogStreamState.Reconnecting"/> meanwhile. The upstream closes <see cref="LogOptions.IdleGrace"/>
/// after its last subscriber leaves. Singleton; thread-safe.
/// </summary>
public sealed class PodLogHub(ClusterGateway cluster, IOptions<LogOptions> options, ILogger<PodLogHub> logger) : IPodLogSource, IAsyncDisposable
{
    private readonly ClusterGateway _cluster = cluster;
    private readonly ILogger<PodLogHub> _logger = logger;
    private readonly object _lock = new();
    private readonly Dictionary<PodLogKey, Upstream> _upstreams = [];
    private readonly CancellationTokenSource _stopping = new();
    private long _connections;

    private LogOptions Options => options.Value;

    /// <summary>Upstream follows currently open or reconnecting.</summary>
    public int ActiveUpstreams
    {
        get
        {
            lock (_lock)
            {
                return _upstreams.Count;
            }
        }
    }

    /// <summary>Log requests opened so far (first connections and reconnections), over all streams.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Whether an upstream for <paramref name="key"/> is open (or reconnecting).</summary>
    public bool IsOpen(PodLogKey key)
    {
        lock (_lock)
        {
            return _upstreams.ContainsKey(key);
        }
    }

    /// <summary>
    /// Joins (or opens) the stream of one container. Never blocks on the cluster; the subscription's reader
    /// says how the connection goes. The caller must dispose the subscription.
    /// </summary>
    public PodLogSubscription Subscribe(PodLogKey key)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        lock (_lock)
        {
            if (!_upstreams.TryGetValue(key, out var upstream))
            {
                upstream = new Upstream(this, key);
                _upstreams[key] = upstream;
                upstream.Start();
            }

            return upstream.Add();
        }
    }

    /// <summary>
    /// A one-off read of what the cluster keeps of a container's log (not shared, not followed): the last lines,
    /// those since a moment, or the previous run (after a crash or restart). Throws
    /// <see cref="ClusterRejectedException"/> when the cluster refuses (e.g. no previous run).
    /// </summary>
    public async Task<IReadOnlyList<LogLine>> ReadAsync(PodLogKey key, LogRange range, CancellationToken ct)
    {
        var lines = new List<LogLine>();
        await foreach (var line in ReadLinesAsync(_cluster, key, range, ct))
        {
            lines.Add(line);
        }

        return lines;
    }

    /// <summary>Streams a one-off read line by line, for callers that must not hold it all (downloads).</summary>
    public static async IAsyncEnumerable<LogLine> ReadLinesAsync(ClusterGateway cluster, PodLogKey key, LogRange range,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var stream = await cluster.OpenPodLogAsync(key.Namespace, key.Pod, key.Container, follow: false, sinceTime: null, range.TailLines,
            range.Previous, ct, sinceSeconds: range.Since is { } since ? (int)Math.Max(1, since.TotalSeconds) : null);
        using var reader = new StreamReader(stream);
        long last = 0;
        while (await reader.ReadLineAsync(ct) is { } raw)
        {
            if (!KubeTime.TrySplit(raw, out var nanos, out var text))
            {
                (nanos, text) = (last, raw);
            }

            last = nanos;
            yield return new LogLine(key.Pod, key.Container, nanos, text);
        }
    }

    private void Close(Upstream upstream)
    {
        lock (_lock)
        {
            if (!upstream.TryRetire())
            {
                return; // somebody joined during the grace period
            }

            _upstreams.Remove(upstream.Key);
        }

        _logger.LogDebug("Closing the log stream of {Pod}/{Container}: no viewers left", upstream.Key.Pod, upstream.Key.Container);
    }

    public async ValueTask DisposeAsync()
    {
        Upstream[] all;
        lock (_lock)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            _stopping.Cancel();
            all = [.. _upstreams.Values];
            _upstreams.Clear();
        }

        foreach (var upstream in all)
        {
            await upstream.StopAsync();
        }
    }

    private sealed class Upstream(PodLogHub hub, PodLogKey key)
    {
        private readonly object _gate = new();
        private readonly LogLine[] _ring = new LogLine[Math.Max(1, hub.Options.BufferLines)];
        private readonly CancellationTokenSource _cts = CancellationTokenSource.CreateLinkedTokenSource(hub._stopping.Token);
        private int _ringStart;
        private int _ringCount;
        private ImmutableArray<(PodLogSubscription Subscription, ChannelWriter<LogEvent> Writer)> _subscribers = [];
        private LogStreamState _state = LogStreamState.Connecting;
        private CancellationTokenSource? _idle;
        private bool _retired;
        private Task _pump = Task.CompletedTask;

        public PodLogKey Key => key;

        public void Start() => _pump = Task.Run(() => PumpAsync(_cts.Token));

        public PodLogSubscription Add()
        {
            PodLogSubscription subscription = null!;
            var channel = Channel.CreateBounded<LogEvent>(
                new BoundedChannelOptions(Math.Max(hub.Options.SubscriberQueue, _ring.Length + 16)) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
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
                await Task.Delay(hub.Options.IdleGrace, rejoined);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            hub.Close(this);
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

        private void Publish(LogLine line)
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

        private void SetState(LogStreamState state)
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

        private async Task PumpAsync(CancellationToken ct)
        {
            var cursor = new LogCursor(); // what has been delivered so far
            var connected = false;
            var delay = hub.Options.ReconnectDelay;
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    // Resume at (not after) the last timestamp: lines sharing it that were not delivered yet come again.
                    var since = cursor.IsStart ? null : KubeTime.Format(cursor.Nanos);
                    await using var stream = await hub._cluster.OpenPodLogAsync(key.Namespace, key.Pod, key.Container, follow: true, since,
                        since is null ? hub.Options.BufferLines : null, previous: false, ct);
                    Interlocked.Increment(ref hub._connections);
                    connected = true;
                    delay = hub.Options.ReconnectDelay;
                    SetState(LogStreamState.Live);
                    using var reader = new StreamReader(stream);
                    var resume = cursor.Resume();
                    while (await reader.ReadLineAsync(ct) is { } raw)
                    {
                        if (!KubeTime.TrySplit(raw, out var nanos, out var text))
                        {
                            // Not kubelet's format (should not happen with timestamps=true): keep the line, ordered after the last.
                            nanos = cursor.Nanos;
                            text = raw;
                        }

                        if (!resume.IsNew(nanos))
                        {
                            continue; // delivered before the stream dropped (or repeated by a second-precision sinceTime)
                        }

                        cursor.Advance(nanos);
                        Publish(new LogLine(key.Pod, key.Container, nanos, text));
                    }

                    // The server ended the follow (rotation, container exit, API server timeout): resume after the last line.
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    break;
                }
                catch (ClusterRejectedException e) when (e.StatusCode == HttpStatusCode.NotFound)
                {
                    SetState(LogStreamState.Ended);
                    return;
                }
                catch (Exception e)
                {
                    hub._logger.LogDebug(e, "Log stream of {Pod}/{Container} dropped; reconnecting", key.Pod, key.Container);
                }

                SetState(connected ? LogStreamState.Reconnecting : LogStreamState.Connecting);
                try
                {
                    await Task.Delay(delay, ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, hub.Options.MaxReconnectDelay.Ticks));
            }
        }
    }
}

using DeployPortal.Web.Cluster;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Logs;

/// <summary>
/// Pod logs for every viewer: one upstream follow (<see cref="PodLogFollower"/>) per pod and container, however
/// many pages view it, shared through one <see cref="PodLogFanOut"/> with a ring of recent lines for late viewers.
/// The upstream closes <see cref="LogOptions.IdleGrace"/> after its last subscriber leaves. Singleton; thread-safe.
/// </summary>
internal sealed class PodLogHub : IPodLogSource, IAsyncDisposable
{
    private readonly ClusterGateway _cluster;
    private readonly LogOptions _options;
    private readonly ILogger<PodLogHub> _logger;
    private readonly PodLogFollower _follower;
    private readonly object _lock = new();
    private readonly Dictionary<PodLogKey, PodLogFanOut> _streams = [];
    private readonly CancellationTokenSource _stopping = new();

    public PodLogHub(ClusterGateway cluster, IOptions<LogOptions> options, ILogger<PodLogHub> logger)
    {
        (_cluster, _options, _logger) = (cluster, options.Value, logger);
        _follower = new PodLogFollower(cluster, _options, logger);
    }

    /// <summary>Upstream follows currently open or reconnecting.</summary>
    public int ActiveUpstreams
    {
        get
        {
            lock (_lock)
            {
                return _streams.Count;
            }
        }
    }

    /// <summary>Log requests opened so far (first connections and reconnections), over all streams.</summary>
    public long Connections => _follower.Connections;

    /// <summary>Whether an upstream for <paramref name="key"/> is open (or reconnecting).</summary>
    public bool IsOpen(PodLogKey key)
    {
        lock (_lock)
        {
            return _streams.ContainsKey(key);
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
            if (!_streams.TryGetValue(key, out var stream))
            {
                stream = new PodLogFanOut(key, _options, _stopping.Token, Close);
                _streams[key] = stream;
                stream.Start(_follower);
            }

            return stream.Add();
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

    private void Close(PodLogFanOut stream)
    {
        lock (_lock)
        {
            if (!stream.TryRetire())
            {
                return; // somebody joined during the grace period
            }

            _streams.Remove(stream.Key);
        }

        _logger.LogDebug("Closing the log stream of {Pod}/{Container}: no viewers left", stream.Key.Pod, stream.Key.Container);
    }

    public async ValueTask DisposeAsync()
    {
        PodLogFanOut[] all;
        lock (_lock)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            _stopping.Cancel();
            all = [.. _streams.Values];
            _streams.Clear();
        }

        foreach (var stream in all)
        {
            await stream.StopAsync();
        }
    }
}

using System.Net;
using DeployPortal.Web.Cluster;

namespace DeployPortal.Web.Logs;

/// <summary>What a follower feeds: the lines, in order, and how the upstream connection goes.</summary>
internal interface IPodLogSink
{
    void Publish(LogLine line);

    void SetState(LogStreamState state);
}

/// <summary>
/// Follows one container's log upstream (timestamps on) for as long as it is asked to. A dropped follow (network,
/// API server timeout, rotation, container restart) is reopened after a back-off with <c>sinceTime</c> = the last
/// line's timestamp, and the lines already delivered are skipped (<see cref="LogCursor"/>), so the sink sees no gap
/// and no duplicate; it sees <see cref="LogStreamState.Reconnecting"/> meanwhile, and
/// <see cref="LogStreamState.Ended"/> when the pod is gone. Thread-safe: one instance serves every follow.
/// </summary>
internal sealed class PodLogFollower(ClusterGateway cluster, LogOptions options, ILogger logger)
{
    private long _connections;

    /// <summary>Log requests opened so far (first connections and reconnections), over all follows.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Follows <paramref name="key"/> into <paramref name="sink"/> until <paramref name="ct"/> is cancelled or the pod is gone.</summary>
    public async Task FollowAsync(PodLogKey key, IPodLogSink sink, CancellationToken ct)
    {
        var cursor = new LogCursor(); // what has been delivered so far
        var connected = false;
        var delay = options.ReconnectDelay;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // Resume at (not after) the last timestamp: lines sharing it that were not delivered yet come again.
                var since = cursor.IsStart ? null : KubeTime.Format(cursor.Nanos);
                await using var stream = await cluster.OpenPodLogAsync(key.Namespace, key.Pod, key.Container, follow: true, since,
                    since is null ? options.BufferLines : null, previous: false, ct);
                Interlocked.Increment(ref _connections);
                connected = true;
                delay = options.ReconnectDelay;
                sink.SetState(LogStreamState.Live);
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
                    sink.Publish(new LogLine(key.Pod, key.Container, nanos, text));
                }

                // The server ended the follow (rotation, container exit, API server timeout): resume after the last line.
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (ClusterRejectedException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                sink.SetState(LogStreamState.Ended);
                return;
            }
            catch (Exception e)
            {
                logger.LogDebug(e, "Log stream of {Pod}/{Container} dropped; reconnecting", key.Pod, key.Container);
            }

            sink.SetState(connected ? LogStreamState.Reconnecting : LogStreamState.Connecting);
            try
            {
                await Task.Delay(delay, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxReconnectDelay.Ticks));
        }
    }
}

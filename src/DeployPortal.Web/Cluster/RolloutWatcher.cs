using System.Threading.Channels;

namespace DeployPortal.Web.Cluster;

/// <summary>
/// Follows a rollout: pod events drive the evaluation (<see cref="RolloutEvaluator"/>), and a slow tick catches
/// what only the Deployment shows (ProgressDeadlineExceeded).
/// </summary>
internal sealed class RolloutWatcher(ClusterGateway cluster, PodWatcher podWatcher)
{
    private static readonly TimeSpan RolloutTick = TimeSpan.FromSeconds(1);

    /// <summary>How many lines of a crashed container's log a failed rollout quotes.</summary>
    private const int CrashLogLines = 20;

    /// <summary>
    /// Follows a rollout until the Deployment is available with pods of <paramref name="image"/>, or fails
    /// fast with the cluster's own reason. Each change is reported through <paramref name="progress"/>.
    /// </summary>
    public async Task<RolloutStatus> WaitForRolloutAsync(string ns, string app, string image, Func<RolloutStatus, Task> progress, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var latest = Channel.CreateBounded<IReadOnlyList<PodView>>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        var pump = Task.Run(async () =>
        {
            await foreach (var snapshot in podWatcher.WatchPodsAsync(ns, app, stop.Token))
            {
                await latest.Writer.WriteAsync(snapshot, stop.Token);
            }
        }, stop.Token);
        try
        {
            IReadOnlyList<PodView> pods = [];
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                // Wait for the next snapshot or the tick, whichever comes first. WaitToReadAsync consumes
                // nothing when it is cancelled, so no snapshot is lost to an abandoned read.
                using (var tick = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    tick.CancelAfter(RolloutTick);
                    try
                    {
                        if (await latest.Reader.WaitToReadAsync(tick.Token))
                        {
                            while (latest.Reader.TryRead(out var snapshot))
                            {
                                pods = snapshot;
                            }
                        }
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                    }
                }

                var deployment = await cluster.ReadDeploymentAsync(ns, app, ct);
                var verdict = RolloutEvaluator.Evaluate(deployment, [.. pods.Where(p => p.Image == image)]);
                var status = verdict.Crashed is { } crashed
                    ? verdict.WithCrashLog(await cluster.CrashLogTailAsync(ns, crashed.Name, CrashLogLines, ct))
                    : verdict.Status;
                await progress(status);
                if (status.Done)
                {
                    return status;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await pump;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}

using System.Runtime.CompilerServices;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Cluster;

/// <summary>
/// An app's pods as snapshots: now, or after every change for as long as the caller listens. Watches are
/// re-established from a fresh list when they drop or expire.
/// </summary>
internal sealed class PodWatcher(ClusterGateway cluster, IOptions<ClusterOptions> options)
{
    /// <summary>The pods of an app in a namespace, now.</summary>
    public async Task<IReadOnlyList<PodView>> ListPodsAsync(string ns, string app, CancellationToken ct) =>
        PodView.Snapshot((await cluster.ListPodsAsync(ns, app, ct)).Items);

    /// <summary>
    /// The pods of an app in a namespace: a snapshot first, then a new snapshot after every change, for as
    /// long as the caller enumerates. Dropped or expired watches are resumed; the enumeration ends only
    /// when <paramref name="ct"/> is cancelled (then it stops without throwing).
    /// </summary>
    public async IAsyncEnumerable<IReadOnlyList<PodView>> WatchPodsAsync(string ns, string app, [EnumeratorCancellation] CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            V1PodList list;
            try
            {
                list = await cluster.ListPodsAsync(ns, app, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                yield break;
            }

            var pods = list.Items.ToDictionary(p => p.Metadata.Name);
            yield return PodView.Snapshot(pods.Values);

            var changes = Channel.CreateUnbounded<(WatchEventType Type, V1Pod Pod)>();
            var watching = cluster.WatchPodsAsync(ns, app, list.Metadata.ResourceVersion, changes.Writer, ct);
            await foreach (var (type, pod) in changes.Reader.ReadAllAsync(CancellationToken.None))
            {
                if (type == WatchEventType.Deleted)
                {
                    pods.Remove(pod.Metadata.Name);
                }
                else if (type is WatchEventType.Added or WatchEventType.Modified)
                {
                    pods[pod.Metadata.Name] = pod;
                }
                else
                {
                    continue;
                }

                yield return PodView.Snapshot(pods.Values);
            }

            await watching;
            if (!ct.IsCancellationRequested)
            {
                // The server closed the watch (timeout, compaction, a dropped connection): list again.
                try
                {
                    await Task.Delay(options.Value.RetryDelay, ct);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
            }
        }
    }
}

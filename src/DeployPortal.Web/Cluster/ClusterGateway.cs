using System.Threading.Channels;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Cluster;

/// <summary>
/// The portal's one seam to Kubernetes, over the official client: every request the portal makes is here, and
/// nothing else is. Objects and patches come from <see cref="ManifestBuilder"/>; each call goes through
/// <see cref="ClusterRetries"/> (transient failures retried, refusals as <see cref="ClusterRejectedException"/>).
/// Cancellation: every method stops promptly when its token is cancelled and leaves nothing running.
/// </summary>
internal sealed class ClusterGateway(IKubernetes client, IOptions<ClusterOptions> options, ILogger<ClusterGateway> logger)
{
    private readonly ClusterRetries _retries = new(options.Value, logger);

    /// <summary>Creates the namespace when <see cref="ClusterOptions.CreateNamespaces"/> allows it; otherwise it must exist already.</summary>
    public async Task EnsureNamespaceAsync(string name, CancellationToken ct)
    {
        if (!options.Value.CreateNamespaces)
        {
            return;
        }

        var ns = ManifestBuilder.Namespace(name);
        await _retries.CallAsync(t => client.CoreV1.PatchNamespaceAsync(new V1Patch(ns, V1Patch.PatchType.ApplyPatch), name, fieldManager: ManifestBuilder.FieldManager, force: true, cancellationToken: t), ct);
    }

    /// <summary>
    /// An elastic slot's namespace with its ResourceQuota and LimitRange (server-side apply: repeating it changes nothing).
    /// Always creates the namespace, whatever <see cref="ClusterOptions.CreateNamespaces"/> says: making it is the point.
    /// </summary>
    public async Task ApplyElasticNamespaceAsync(string name, Slots.ElasticOptions template, CancellationToken ct)
    {
        const string manager = ElasticManifests.FieldManager;
        var ns = ElasticManifests.Namespace(name);
        await _retries.CallAsync(t => client.CoreV1.PatchNamespaceAsync(new V1Patch(ns, V1Patch.PatchType.ApplyPatch), name, fieldManager: manager, force: true, cancellationToken: t), ct);
        var quota = ElasticManifests.Quota(name, template.Quota);
        await _retries.CallAsync(t => client.CoreV1.PatchNamespacedResourceQuotaAsync(new V1Patch(quota, V1Patch.PatchType.ApplyPatch), quota.Metadata.Name, name,
            fieldManager: manager, force: true, cancellationToken: t), ct);
        var limits = ElasticManifests.LimitRange(name, template.Limits);
        await _retries.CallAsync(t => client.CoreV1.PatchNamespacedLimitRangeAsync(new V1Patch(limits, V1Patch.PatchType.ApplyPatch), limits.Metadata.Name, name,
            fieldManager: manager, force: true, cancellationToken: t), ct);
    }

    /// <summary>Deletes a namespace and all in it; one already gone counts as deleted.</summary>
    public async Task DeleteNamespaceAsync(string name, CancellationToken ct)
    {
        try
        {
            await _retries.CallAsync(t => client.CoreV1.DeleteNamespaceAsync(name, cancellationToken: t), ct);
        }
        catch (ClusterRejectedException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
        }
    }

    /// <summary>Server-side apply of the app's Deployment, Service and Ingress. Idempotent: applying twice changes nothing.</summary>
    public async Task ApplyAsync(AppObjects app, CancellationToken ct)
    {
        var (name, ns) = (app.Deployment.Metadata.Name, app.Deployment.Metadata.NamespaceProperty);
        const string manager = ManifestBuilder.FieldManager;
        await _retries.CallAsync(t => client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(app.Deployment, V1Patch.PatchType.ApplyPatch), name, ns, fieldManager: manager, force: true, cancellationToken: t), ct);
        await _retries.CallAsync(t => client.CoreV1.PatchNamespacedServiceAsync(new V1Patch(app.Service, V1Patch.PatchType.ApplyPatch), name, ns, fieldManager: manager, force: true, cancellationToken: t), ct);
        await _retries.CallAsync(t => client.NetworkingV1.PatchNamespacedIngressAsync(new V1Patch(app.Ingress, V1Patch.PatchType.ApplyPatch), name, ns, fieldManager: manager, force: true, cancellationToken: t), ct);
    }

    /// <summary>An app's Deployment as the cluster has it now (spec and status).</summary>
    public Task<V1Deployment> ReadDeploymentAsync(string ns, string app, CancellationToken ct) =>
        _retries.CallAsync(t => client.AppsV1.ReadNamespacedDeploymentAsync(app, ns, cancellationToken: t), ct);

    /// <summary>The pods of an app in a namespace now, with the list's resourceVersion to watch from.</summary>
    public Task<V1PodList> ListPodsAsync(string ns, string app, CancellationToken ct) =>
        _retries.CallAsync(t => client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: ManifestBuilder.AppSelector(app), cancellationToken: t), ct);

    /// <summary>
    /// Writes the changes to an app's pods after <paramref name="resourceVersion"/> until the server ends the watch
    /// (timeout, 410 Gone, a dropped connection) or <paramref name="ct"/> is cancelled; then completes the writer.
    /// Never throws for either: the caller lists again.
    /// </summary>
    public async Task WatchPodsAsync(string ns, string app, string resourceVersion, ChannelWriter<(WatchEventType, V1Pod)> writer, CancellationToken ct)
    {
        try
        {
            var events = client.CoreV1.WatchListNamespacedPodAsync(ns, labelSelector: ManifestBuilder.AppSelector(app), resourceVersion: resourceVersion,
                timeoutSeconds: 60, cancellationToken: ct);
            await foreach (var (type, pod) in events.WithCancellation(ct))
            {
                if (type == WatchEventType.Error)
                {
                    break; // e.g. 410 Gone: the caller lists again
                }

                await writer.WriteAsync((type, pod), ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ClusterRetries.IsDroppedStream(ex))
        {
            logger.LogInformation("Pod watch in {Namespace} dropped ({Error}); resuming", ns, ex.Message);
        }
        finally
        {
            writer.TryComplete();
        }
    }

    /// <summary>
    /// Scales every Deployment the portal applied for a hold to zero, remembering its replicas in an annotation.
    /// Safe to repeat: a Deployment already asleep keeps its remembered count.
    /// </summary>
    public Task SleepForHoldAsync(string ns, long holdId, CancellationToken ct) => ScaleHoldAsync(ns, holdId, ManifestBuilder.SleepPatch, ct);

    /// <summary>Gives every sleeping Deployment of a hold its remembered replicas back. Safe to repeat.</summary>
    public Task WakeForHoldAsync(string ns, long holdId, CancellationToken ct) => ScaleHoldAsync(ns, holdId, ManifestBuilder.WakePatch, ct);

    /// <summary>The Deployments the portal applied for a hold, as the cluster has them now.</summary>
    public async Task<IList<V1Deployment>> HoldDeploymentsAsync(string ns, long holdId, CancellationToken ct) =>
        (await _retries.CallAsync(t => client.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: ManifestBuilder.HoldSelector(holdId), cancellationToken: t), ct)).Items;

    /// <summary>True while anything the portal (or Argo CD, in GitOps mode) applied for a hold is still in the namespace.</summary>
    public async Task<bool> HoldHasObjectsAsync(string ns, long holdId, CancellationToken ct)
    {
        var selector = ManifestBuilder.HoldSelector(holdId);
        return (await HoldDeploymentsAsync(ns, holdId, ct)).Count > 0
            || (await _retries.CallAsync(t => client.CoreV1.ListNamespacedServiceAsync(ns, labelSelector: selector, limit: 1, cancellationToken: t), ct)).Items.Count > 0
            || (await _retries.CallAsync(t => client.NetworkingV1.ListNamespacedIngressAsync(ns, labelSelector: selector, limit: 1, cancellationToken: t), ct)).Items.Count > 0;
    }

    /// <summary>
    /// Points a hold's Ingresses at the portal (through the <see cref="ManifestBuilder.WakeService"/>), so a visit to a
    /// sleeping app reaches the wake page. Safe to repeat.
    /// </summary>
    public async Task RouteHoldToPortalAsync(string ns, long holdId, string portalHost, CancellationToken ct)
    {
        var service = ManifestBuilder.WakeService(ns, holdId, portalHost);
        await _retries.CallAsync(t => client.CoreV1.PatchNamespacedServiceAsync(new V1Patch(service, V1Patch.PatchType.ApplyPatch), service.Metadata.Name, ns,
            fieldManager: ManifestBuilder.SleepFieldManager, force: true, cancellationToken: t), ct);
        await RouteIngressesAsync(ns, holdId, _ => ManifestBuilder.WakeServiceName, ct);
    }

    /// <summary>Points a hold's Ingresses back at their own apps' Services and removes the wake Service. Safe to repeat.</summary>
    public async Task RouteHoldToAppsAsync(string ns, long holdId, CancellationToken ct)
    {
        await RouteIngressesAsync(ns, holdId, ingress => ingress.Metadata.Name, ct);
        try
        {
            await _retries.CallAsync(t => client.CoreV1.DeleteNamespacedServiceAsync(ManifestBuilder.WakeServiceName, ns, cancellationToken: t), ct);
        }
        catch (ClusterRejectedException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            // Not there (never made, or removed already): nothing to do.
        }
    }

    private async Task RouteIngressesAsync(string ns, long holdId, Func<V1Ingress, string> serviceFor, CancellationToken ct)
    {
        var ingresses = await _retries.CallAsync(t => client.NetworkingV1.ListNamespacedIngressAsync(ns, labelSelector: ManifestBuilder.HoldSelector(holdId), cancellationToken: t), ct);
        foreach (var ingress in ingresses.Items)
        {
            if (ManifestBuilder.BackendPatch(ingress, serviceFor(ingress)) is { } patch)
            {
                await _retries.CallAsync(t => client.NetworkingV1.PatchNamespacedIngressAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), ingress.Metadata.Name, ns,
                    fieldManager: ManifestBuilder.SleepFieldManager, cancellationToken: t), ct);
            }
        }
    }

    private async Task ScaleHoldAsync(string ns, long holdId, Func<V1Deployment, string?> patchFor, CancellationToken ct)
    {
        foreach (var d in await HoldDeploymentsAsync(ns, holdId, ct))
        {
            if (patchFor(d) is { } patch)
            {
                await _retries.CallAsync(t => client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), d.Metadata.Name, ns,
                    fieldManager: ManifestBuilder.SleepFieldManager, cancellationToken: t), ct);
            }
        }
    }

    /// <summary>Removes everything the portal applied for a hold in a namespace (by label). Safe to repeat.</summary>
    public async Task DeleteForHoldAsync(string ns, long holdId, CancellationToken ct)
    {
        var selector = ManifestBuilder.HoldSelector(holdId);
        await _retries.CallAsync(t => client.NetworkingV1.DeleteCollectionNamespacedIngressAsync(ns, labelSelector: selector, cancellationToken: t), ct);
        await _retries.CallAsync(t => client.CoreV1.DeleteCollectionNamespacedServiceAsync(ns, labelSelector: selector, cancellationToken: t), ct);
        await _retries.CallAsync(t => client.AppsV1.DeleteCollectionNamespacedDeploymentAsync(ns, labelSelector: selector, cancellationToken: t), ct);
    }

    /// <summary>
    /// The last lines a crashed container wrote: its previous run when the cluster still has one, else the
    /// current (terminated) run, as kubelet serves it while the pod waits in back-off. Empty when neither exists.
    /// </summary>
    public async Task<string> CrashLogTailAsync(string ns, string pod, int lines, CancellationToken ct)
    {
        foreach (var previous in new[] { true, false })
        {
            try
            {
                // Read the body inside the resilience pipeline: its per-attempt timeout token ends with the attempt.
                var text = await _retries.CallAsync(async t =>
                {
                    await using var stream = await client.CoreV1.ReadNamespacedPodLogAsync(pod, ns, previous: previous, tailLines: lines, cancellationToken: t);
                    using var reader = new StreamReader(stream);
                    return await reader.ReadToEndAsync(t);
                }, ct);
                if (text.Trim().Length > 0)
                {
                    return text.TrimEnd();
                }
            }
            catch (ClusterRejectedException)
            {
            }
        }

        return "";
    }

    /// <summary>
    /// Opens one container's log as kubelet serves it, with kubelet timestamps on every line. Not retried here:
    /// a follow is long-lived, so its owner (<c>PodLogFollower</c>) decides when and from where to reconnect.
    /// <paramref name="sinceTime"/> is inclusive (RFC3339 with nanoseconds); <paramref name="sinceSeconds"/> is relative to the
    /// cluster's clock (at most one of the two). The caller disposes the stream;
    /// cancelling <paramref name="ct"/> aborts the request and any read in progress.
    /// </summary>
    public async Task<Stream> OpenPodLogAsync(string ns, string pod, string? container, bool follow, string? sinceTime, int? tailLines, bool previous, CancellationToken ct,
        int? sinceSeconds = null)
    {
        IReadOnlyDictionary<string, IReadOnlyList<string>>? headers = sinceTime is null
            ? null
            : new Dictionary<string, IReadOnlyList<string>> { [PodLogQueryHandler.SinceTimeHeader] = [sinceTime] };
        try
        {
            var response = await client.CoreV1.ReadNamespacedPodLogWithHttpMessagesAsync(pod, ns, container: container, follow: follow,
                previous: previous ? true : null, sinceSeconds: sinceSeconds, tailLines: tailLines, timestamps: true, customHeaders: headers, cancellationToken: ct);
            return response.Body;
        }
        catch (HttpOperationException e) when (!ClusterRetries.IsTransient(e.Response.StatusCode))
        {
            throw ClusterRetries.Rejected(e);
        }
    }
}

using System.Threading.Channels;
using System.Net;
using System.Runtime.CompilerServices;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace DeployPortal.Web.Cluster;

/// <summary>What the portal applies for one app in one slot.</summary>
public sealed record AppManifest(
    string Namespace,
    string App,
    string Image,
    int ContainerPort,
    int Replicas,
    IReadOnlyDictionary<string, string> Env,
    string CpuRequest,
    string MemoryRequest,
    string Host,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Annotations);

/// <summary>A transient failure of a cluster call that is about to be tried again: attempt <paramref name="Attempt"/> of <paramref name="Of"/>.</summary>
public sealed record ClusterRetry(int Attempt, int Of, string Reason)
{
    public override string ToString() => $"retrying ({Attempt} of {Of}): {Reason}";
}

public sealed record PodView(string Name, string Phase, bool Ready, int Restarts, string? Reason, string Image, DateTime? StartedAt);

public sealed record RolloutStatus(bool Done, string? Failure, int Ready, int Desired, IReadOnlyList<PodView> Pods);

/// <summary>The cluster refused something for a reason a person must fix (not worth retrying).</summary>
public sealed class ClusterRejectedException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The API server's status code when it answered (404 tells a log follower the pod is gone).</summary>
    public HttpStatusCode? StatusCode { get; init; }
}

/// <summary>
/// The portal's one seam to Kubernetes, over the official client. Calls that fail transiently (5xx, 429,
/// dropped connections, hanging requests) are retried with exponential backoff; permanent refusals
/// surface at once as <see cref="ClusterRejectedException"/> with the API server's own message.
/// Watches are re-established from the last seen resourceVersion (or a fresh list) when they drop.
/// Cancellation: every method stops promptly when its token is cancelled and leaves nothing running.
/// </summary>
public sealed class ClusterGateway(IKubernetes client, IOptions<ClusterOptions> options, ILogger<ClusterGateway> logger)
{
    public const string FieldManager = "deployportal";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string AppLabel = "app.kubernetes.io/name";
    public const string HoldLabel = "deployportal.io/hold";

    private static readonly string[] PullFailures = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"];

    private readonly ResiliencePipeline _retry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<TimeoutRejectedException>().Handle<IOException>()
                .Handle<HttpOperationException>(e => IsTransient(e.Response.StatusCode)),
            MaxRetryAttempts = options.Value.MaxRetries,
            Delay = options.Value.RetryDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            OnRetry = async args =>
            {
                logger.LogWarning("Cluster call failed transiently ({Reason}); retry {Attempt} in {Delay}",
                    Describe(args.Outcome.Exception, options.Value.RequestTimeout), args.AttemptNumber + 1, args.RetryDelay);
                if (RetryObserver.Value is { } observe)
                {
                    try
                    {
                        await observe(new ClusterRetry(args.AttemptNumber + 2, options.Value.MaxRetries + 1, Describe(args.Outcome.Exception, options.Value.RequestTimeout)));
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        logger.LogWarning("Could not report a cluster retry: {Reason}", ex.Message);
                    }
                }
            },
        })
        .AddTimeout(options.Value.RequestTimeout)
        .Build();

    private ClusterOptions Options => options.Value;

    private static readonly AsyncLocal<Func<ClusterRetry, Task>?> RetryObserver = new();

    /// <summary>
    /// Until disposed, every retry of a cluster call made from the caller's async flow is reported to
    /// <paramref name="onRetry"/> (before the back-off), so a deployment step can show it while it waits.
    /// </summary>
    public static IDisposable ObserveRetries(Func<ClusterRetry, Task> onRetry)
    {
        var previous = RetryObserver.Value;
        RetryObserver.Value = onRetry;
        return new RestoreObserver(previous);
    }

    private sealed class RestoreObserver(Func<ClusterRetry, Task>? previous) : IDisposable
    {
        public void Dispose() => RetryObserver.Value = previous;
    }

    private static string Describe(Exception? error, TimeSpan timeout) => error switch
    {
        HttpOperationException e => $"the cluster answered {(int)e.Response.StatusCode}",
        TimeoutRejectedException => $"the cluster did not answer within {timeout.TotalSeconds:0.#} s",
        null => "the cluster call failed",
        _ => $"the cluster could not be reached ({error.Message})",
    };

    public string HostFor(string app, string slot) => Options.HostPattern.Replace("{app}", app).Replace("{slot}", slot);

    /// <summary>Creates the namespace when <see cref="ClusterOptions.CreateNamespaces"/> allows it; otherwise it must exist already.</summary>
    public async Task EnsureNamespaceAsync(string name, CancellationToken ct)
    {
        if (!Options.CreateNamespaces)
        {
            return;
        }

        var ns = new V1Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { [ManagedByLabel] = FieldManager } } };
        await CallAsync(t => client.CoreV1.PatchNamespaceAsync(new V1Patch(ns, V1Patch.PatchType.ApplyPatch), name, fieldManager: FieldManager, force: true, cancellationToken: t), ct);
    }

    /// <summary>Server-side apply of the app's Deployment, Service and Ingress. Idempotent: applying twice changes nothing.</summary>
    public async Task ApplyAsync(AppManifest m, CancellationToken ct)
    {
        var meta = new V1ObjectMeta { Name = m.App, NamespaceProperty = m.Namespace, Labels = new Dictionary<string, string>(m.Labels), Annotations = new Dictionary<string, string>(m.Annotations) };
        var selector = new Dictionary<string, string> { [AppLabel] = m.App };
        var deployment = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = meta,
            Spec = new V1DeploymentSpec
            {
                Replicas = m.Replicas,
                ProgressDeadlineSeconds = Options.ProgressDeadlineSeconds,
                Selector = new V1LabelSelector { MatchLabels = selector },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(m.Labels), Annotations = new Dictionary<string, string>(m.Annotations) },
                    Spec = new V1PodSpec
                    {
                        Containers =
                        [
                            new V1Container
                            {
                                Name = m.App,
                                Image = m.Image,
                                Ports = [new V1ContainerPort { ContainerPort = m.ContainerPort, Name = "http" }],
                                Env = [.. m.Env.Select(e => new V1EnvVar { Name = e.Key, Value = e.Value })],
                                Resources = new V1ResourceRequirements
                                {
                                    Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(m.CpuRequest), ["memory"] = new(m.MemoryRequest) },
                                },
                            },
                        ],
                    },
                },
            },
        };
        var service = new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = meta,
            Spec = new V1ServiceSpec { Selector = selector, Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = m.ContainerPort }] },
        };
        var ingress = new V1Ingress
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "Ingress",
            Metadata = meta,
            Spec = new V1IngressSpec
            {
                Rules =
                [
                    new V1IngressRule
                    {
                        Host = m.Host,
                        Http = new V1HTTPIngressRuleValue
                        {
                            Paths = [new V1HTTPIngressPath { Path = "/", PathType = "Prefix", Backend = new V1IngressBackend { Service = new V1IngressServiceBackend { Name = m.App, Port = new V1ServiceBackendPort { Number = 80 } } } }],
                        },
                    },
                ],
            },
        };

        await CallAsync(t => client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(deployment, V1Patch.PatchType.ApplyPatch), m.App, m.Namespace, fieldManager: FieldManager, force: true, cancellationToken: t), ct);
        await CallAsync(t => client.CoreV1.PatchNamespacedServiceAsync(new V1Patch(service, V1Patch.PatchType.ApplyPatch), m.App, m.Namespace, fieldManager: FieldManager, force: true, cancellationToken: t), ct);
        await CallAsync(t => client.NetworkingV1.PatchNamespacedIngressAsync(new V1Patch(ingress, V1Patch.PatchType.ApplyPatch), m.App, m.Namespace, fieldManager: FieldManager, force: true, cancellationToken: t), ct);
    }

    /// <summary>
    /// Follows a rollout until the Deployment is available with pods of <paramref name="image"/>, or fails
    /// fast with the cluster's own reason. Each change is reported through <paramref name="progress"/>.
    /// </summary>
    public async Task<RolloutStatus> WaitForRolloutAsync(string ns, string app, string image, Func<RolloutStatus, Task> progress, CancellationToken ct)
    {
        // Pod events drive the evaluation; a slow tick catches what only the Deployment shows (ProgressDeadlineExceeded).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var latest = Channel.CreateBounded<IReadOnlyList<PodView>>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        var pump = Task.Run(async () =>
        {
            await foreach (var snapshot in WatchPodsAsync(ns, app, stop.Token))
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

                var deployment = await CallAsync(t => client.AppsV1.ReadNamespacedDeploymentAsync(app, ns, cancellationToken: t), ct);
                var status = await EvaluateAsync(ns, deployment, [.. pods.Where(p => p.Image == image)], ct);
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

    private static readonly TimeSpan RolloutTick = TimeSpan.FromSeconds(1);

    /// <summary>The pods of an app in a namespace, now.</summary>
    public async Task<IReadOnlyList<PodView>> ListPodsAsync(string ns, string app, CancellationToken ct)
    {
        var list = await CallAsync(t => client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"{AppLabel}={app}", cancellationToken: t), ct);
        return Snapshot(list.Items.ToDictionary(p => p.Metadata.Name));
    }

    /// <summary>
    /// The pods of an app in a namespace: a snapshot first, then a new snapshot after every change, for as
    /// long as the caller enumerates. Dropped or expired watches are resumed; the enumeration ends only
    /// when <paramref name="ct"/> is cancelled (then it stops without throwing).
    /// </summary>
    public async IAsyncEnumerable<IReadOnlyList<PodView>> WatchPodsAsync(string ns, string app, [EnumeratorCancellation] CancellationToken ct)
    {
        var selector = $"{AppLabel}={app}";
        while (!ct.IsCancellationRequested)
        {
            V1PodList list;
            try
            {
                list = await CallAsync(t => client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, cancellationToken: t), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                yield break;
            }

            var pods = list.Items.ToDictionary(p => p.Metadata.Name);
            yield return Snapshot(pods);

            var changes = Channel.CreateUnbounded<(WatchEventType Type, V1Pod Pod)>();
            var watching = WatchIntoAsync(ns, selector, list.Metadata.ResourceVersion, changes.Writer, ct);
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

                yield return Snapshot(pods);
            }

            await watching;
            if (!ct.IsCancellationRequested)
            {
                // The server closed the watch (timeout, compaction, a dropped connection): list again.
                try
                {
                    await Task.Delay(Options.RetryDelay, ct);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
            }
        }
    }

    /// <summary>Where a sleeping Deployment remembers how many replicas to wake up with.</summary>
    public const string ReplicasBeforeSleepAnnotation = "deployportal.io/replicas-before-sleep";

    /// <summary>
    /// Scales every Deployment the portal applied for a hold to zero, remembering its replicas in an annotation.
    /// A merge patch under its own field manager, so the next deploy's server-side apply (forced) takes the replicas
    /// back. Safe to repeat: a Deployment already asleep keeps its remembered count.
    /// </summary>
    public async Task SleepForHoldAsync(string ns, long holdId, CancellationToken ct)
    {
        foreach (var d in await HoldDeploymentsAsync(ns, holdId, ct))
        {
            if (d.Metadata.Annotations?.ContainsKey(ReplicasBeforeSleepAnnotation) == true)
            {
                continue;
            }

            var replicas = d.Spec.Replicas ?? 1;
            var patch = ScalePatch(replicas.ToString(System.Globalization.CultureInfo.InvariantCulture), 0);
            await CallAsync(t => client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), d.Metadata.Name, ns,
                fieldManager: SleepFieldManager, cancellationToken: t), ct);
        }
    }

    /// <summary>Gives every sleeping Deployment of a hold its remembered replicas back. Safe to repeat.</summary>
    public async Task WakeForHoldAsync(string ns, long holdId, CancellationToken ct)
    {
        foreach (var d in await HoldDeploymentsAsync(ns, holdId, ct))
        {
            if (d.Metadata.Annotations?.TryGetValue(ReplicasBeforeSleepAnnotation, out var value) != true || !int.TryParse(value, out var replicas))
            {
                continue;
            }

            var patch = ScalePatch(null, replicas);
            await CallAsync(t => client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), d.Metadata.Name, ns,
                fieldManager: SleepFieldManager, cancellationToken: t), ct);
        }
    }

    private const string SleepFieldManager = FieldManager + "-sleep";

    /// <summary>A merge patch setting the replicas and the remembered count (null removes the annotation).</summary>
    private static string ScalePatch(string? remembered, int replicas) => System.Text.Json.JsonSerializer.Serialize(new
    {
        metadata = new { annotations = new Dictionary<string, string?> { [ReplicasBeforeSleepAnnotation] = remembered } },
        spec = new { replicas },
    });

    private async Task<IList<V1Deployment>> HoldDeploymentsAsync(string ns, long holdId, CancellationToken ct) =>
        (await CallAsync(t => client.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: $"{ManagedByLabel}={FieldManager},{HoldLabel}={holdId}", cancellationToken: t), ct)).Items;

    /// <summary>Removes everything the portal applied for a hold in a namespace (by label). Safe to repeat.</summary>
    public async Task DeleteForHoldAsync(string ns, long holdId, CancellationToken ct)
    {
        var selector = $"{ManagedByLabel}={FieldManager},{HoldLabel}={holdId}";
        await CallAsync(t => client.NetworkingV1.DeleteCollectionNamespacedIngressAsync(ns, labelSelector: selector, cancellationToken: t), ct);
        await CallAsync(t => client.CoreV1.DeleteCollectionNamespacedServiceAsync(ns, labelSelector: selector, cancellationToken: t), ct);
        await CallAsync(t => client.AppsV1.DeleteCollectionNamespacedDeploymentAsync(ns, labelSelector: selector, cancellationToken: t), ct);
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
                var text = await CallAsync(async t =>
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
    /// a follow is long-lived, so its owner (<c>PodLogHub</c>) decides when and from where to reconnect.
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
        catch (HttpOperationException e) when (!IsTransient(e.Response.StatusCode))
        {
            throw new ClusterRejectedException(ReadStatusMessage(e), e) { StatusCode = e.Response.StatusCode };
        }
    }

    private async Task WatchIntoAsync(string ns, string selector, string resourceVersion, ChannelWriter<(WatchEventType, V1Pod)> writer, CancellationToken ct)
    {
        try
        {
            var events = client.CoreV1.WatchListNamespacedPodAsync(ns, labelSelector: selector, resourceVersion: resourceVersion,
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
        catch (Exception ex) when (ex is HttpRequestException or IOException or HttpOperationException or KubernetesException)
        {
            logger.LogInformation("Pod watch in {Namespace} dropped ({Error}); resuming", ns, ex.Message);
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private async Task<RolloutStatus> EvaluateAsync(string ns, V1Deployment deployment, IReadOnlyList<PodView> pods, CancellationToken ct)
    {
        var desired = deployment.Spec.Replicas ?? 1;
        var status = deployment.Status;
        var ready = pods.Count(p => p.Ready);

        if (pods.FirstOrDefault(p => p.Reason is { } r && PullFailures.Contains(r)) is { } unpulled)
        {
            return new RolloutStatus(true, $"The image {unpulled.Image} could not be pulled ({unpulled.Reason}). Has CI built and pushed this branch yet?", ready, desired, pods);
        }

        if (pods.FirstOrDefault(p => p.Reason == "CrashLoopBackOff") is { } crashing)
        {
            var tail = await CrashLogTailAsync(ns, crashing.Name, 20, ct);
            var message = $"The app crashes on start (CrashLoopBackOff; pod {crashing.Name} restarted {crashing.Restarts} times).";
            return new RolloutStatus(true, tail.Length == 0 ? message : $"{message} Last lines of its log:\n{tail}", ready, desired, pods);
        }

        if (status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing") is { Status: "False", Reason: "ProgressDeadlineExceeded" })
        {
            return new RolloutStatus(true, $"The rollout made no progress for {deployment.Spec.ProgressDeadlineSeconds} s (ProgressDeadlineExceeded): {ready} of {desired} pods became ready.", ready, desired, pods);
        }

        var complete = status is not null
            && (status.ObservedGeneration ?? 0) >= (deployment.Metadata.Generation ?? 0)
            && (status.UpdatedReplicas ?? 0) == desired
            && (status.AvailableReplicas ?? 0) == desired
            && (status.Replicas ?? 0) == desired
            && ready == desired;
        return new RolloutStatus(complete, null, ready, desired, pods);
    }

    private static IReadOnlyList<PodView> Snapshot(Dictionary<string, V1Pod> pods) =>
        [.. pods.Values.OrderBy(p => p.Metadata.CreationTimestamp).ThenBy(p => p.Metadata.Name).Select(ToView)];

    private static PodView ToView(V1Pod pod)
    {
        var container = pod.Status?.ContainerStatuses?.FirstOrDefault();
        var reason = container?.State?.Waiting?.Reason ?? container?.State?.Terminated?.Reason ?? pod.Status?.Reason;
        return new PodView(
            pod.Metadata.Name,
            pod.Status?.Phase ?? "Pending",
            container?.Ready ?? false,
            container?.RestartCount ?? 0,
            reason,
            pod.Spec?.Containers?.FirstOrDefault()?.Image ?? "",
            pod.Status?.StartTime);
    }

    private async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await _retry.ExecuteAsync(async t => await call(t), ct);
        }
        catch (HttpOperationException e) when (!IsTransient(e.Response.StatusCode))
        {
            throw new ClusterRejectedException(ReadStatusMessage(e), e);
        }
    }

    private static bool IsTransient(HttpStatusCode code) => code is HttpStatusCode.TooManyRequests || (int)code >= 500;

    private static string ReadStatusMessage(HttpOperationException e)
    {
        try
        {
            var status = KubernetesJson.Deserialize<V1Status>(e.Response.Content);
            return $"The cluster refused: {status.Message} ({(int)e.Response.StatusCode} {status.Reason}).";
        }
        catch (Exception)
        {
            return $"The cluster refused the request ({(int)e.Response.StatusCode}).";
        }
    }
}

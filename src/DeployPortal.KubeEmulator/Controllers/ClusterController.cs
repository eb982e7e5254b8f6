using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Logs;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Controllers;

/// <summary>
/// One reconcile loop standing in for kube-controller-manager (Deployment and ReplicaSet controllers, garbage
/// collector), the scheduler and the kubelet. It runs every <see cref="EmulatorOptions.ReconcileInterval"/> and
/// whenever an object changes.
/// </summary>
internal sealed class ClusterController : IAsyncDisposable
{
    public const string NodeName = "emulator-node";
    public const string NodeIp = "172.18.0.2";

    private readonly ObjectStore _store;
    private readonly EmulatorOptions _options;
    private readonly TimeProvider _time;
    private readonly PodLogWriter _logs;
    private readonly EventRecorder _events;
    private readonly ILogger _logger;
    private readonly Dictionary<string, PodRuntime> _pods = new();
    private readonly DeploymentController _deployments;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _ipCounter;
    private readonly RegistryPuller? _puller;

    public ClusterController(ObjectStore store, EmulatorOptions options, TimeProvider time, PodLogWriter logs, EventRecorder events, ILogger logger)
    {
        _store = store;
        _options = options;
        _time = time;
        _logs = logs;
        _events = events;
        _logger = logger;
        _deployments = new DeploymentController(store, options, events);
        _puller = options.Registry is { Host.Length: > 0 } registry ? new RegistryPuller(registry) : null;
        store.Changed += e =>
        {
            if (e.Object.Kind == ResourceKind.Event)
            {
                return;
            }

            if (_wake.CurrentCount == 0)
            { try { _wake.Release(); } catch (SemaphoreFullException) { } }
        };
        _loop = Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(_options.ReconcileInterval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { break; }
            try
            { Reconcile(); }
            catch (Exception e) when (e is not OperationCanceledException) { _logger.LogError(e, "reconcile failed"); }
        }
    }

    internal void Reconcile()
    {
        var now = _time.GetUtcNow();
        CollectGarbage();
        foreach (var d in _store.List(ResourceKind.Deployment, null).Items)
        {
            _deployments.Reconcile(d, now);
        }

        foreach (var rs in _store.List(ResourceKind.ReplicaSet, null).Items)
        {
            ReconcileReplicaSet(rs, now);
        }

        StepPods(now);
        foreach (var rs in _store.List(ResourceKind.ReplicaSet, null).Items)
        {
            UpdateReplicaSetStatus(rs);
        }

        foreach (var d in _store.List(ResourceKind.Deployment, null).Items)
        {
            _deployments.UpdateStatus(d, now);
        }
    }

    // ------------------------------------------------------------------ garbage collection

    private void CollectGarbage()
    {
        var deployments = _store.List(ResourceKind.Deployment, null).Items.Select(d => d.Uid).ToHashSet();
        foreach (var rs in _store.List(ResourceKind.ReplicaSet, null).Items)
        {
            if (OwnerUid(rs, "Deployment") is { } owner && !deployments.Contains(owner))
            {
                _store.Delete(ResourceKind.ReplicaSet, rs.Namespace, rs.Name, rs.Uid);
            }
        }

        var replicaSets = _store.List(ResourceKind.ReplicaSet, null).Items.Select(r => r.Uid).ToHashSet();
        foreach (var pod in _store.List(ResourceKind.Pod, null).Items)
        {
            if (OwnerUid(pod, "ReplicaSet") is { } owner && !replicaSets.Contains(owner))
            {
                _store.Delete(ResourceKind.Pod, pod.Namespace, pod.Name, pod.Uid);
            }
        }

        _deployments.Forget(deployments);
    }

    internal static string? OwnerUid(StoredObject o, string kind) =>
        (o.Node["metadata"]?["ownerReferences"] as JsonArray)?.OfType<JsonObject>()
            .Where(r => Json.Str(r, "kind") == kind && (r["controller"] is not JsonValue c || c.GetValue<bool>()))
            .Select(r => Json.Str(r, "uid")).FirstOrDefault();

    // ------------------------------------------------------------------ pods (scheduler + kubelet)

    private void StepPods(DateTimeOffset now)
    {
        var live = new HashSet<string>();
        foreach (var pod in _store.List(ResourceKind.Pod, null).Items)
        {
            live.Add(pod.Uid);
            if (!_pods.TryGetValue(pod.Uid, out var rt))
            {
                _pods[pod.Uid] = rt = new PodRuntime(pod, _options, now, Interlocked.Increment(ref _ipCounter), _puller);
            }

            var status = rt.Step(pod, now, _events, _logs);
            var scheduled = rt.ScheduledAt is not null;
            _store.Update(ResourceKind.Pod, pod.Namespace, pod.Name, cur =>
            {
                if (cur is null || cur.Uid != pod.Uid)
                {
                    return null;
                }

                var next = cur.Clone();
                next["status"] = status;
                if (scheduled && Json.Str(next, "spec", "nodeName") is null)
                {
                    Json.Obj(next, "spec")["nodeName"] = NodeName;
                }

                return next;
            });
        }
        foreach (var gone in _pods.Keys.Where(k => !live.Contains(k)).ToList())
        {
            _pods.Remove(gone);
            _logs.RemovePod(gone);
        }
    }

    internal static bool IsReady(StoredObject pod) =>
        (pod.Node["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().Any(c => Json.Str(c, "type") == "Ready" && Json.Str(c, "status") == "True") == true;

    // ------------------------------------------------------------------ replica sets

    internal static List<StoredObject> PodsOf(ObjectStore store, StoredObject rs) =>
        store.List(ResourceKind.Pod, rs.Namespace, p => OwnerUid(p, "ReplicaSet") == rs.Uid).Items;

    private void ReconcileReplicaSet(StoredObject rs, DateTimeOffset now)
    {
        var desired = (int)(Json.Long(rs.Node, "spec", "replicas") ?? 1);
        var pods = PodsOf(_store, rs);
        if (pods.Count < desired)
        {
            for (var i = pods.Count; i < desired; i++)
            {
                var template = rs.Node["spec"]?["template"]?.DeepClone() as JsonObject ?? new JsonObject();
                var pod = new JsonObject
                {
                    ["apiVersion"] = "v1",
                    ["kind"] = "Pod",
                    ["metadata"] = template["metadata"]?.DeepClone() ?? new JsonObject(),
                    ["spec"] = template["spec"]?.DeepClone() ?? new JsonObject(),
                    ["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = "BestEffort" },
                };
                var meta = pod["metadata"]!.AsObject();
                meta["name"] = $"{rs.Name}-{Api.Resources.RandomSuffix(5)}";
                meta["generateName"] = rs.Name + "-";
                meta["namespace"] = rs.Namespace;
                meta["uid"] = Guid.NewGuid().ToString();
                meta["creationTimestamp"] = Json.Time(now);
                meta["ownerReferences"] = new JsonArray(OwnerRef(rs));
                if (_store.Create(ResourceKind.Pod, pod) is { } created)
                {
                    _events.Record(rs, "Normal", "SuccessfulCreate", $"Created pod: {created.Name}", "replicaset-controller");
                }
            }
        }
        else if (pods.Count > desired)
        {
            // Delete not-ready pods first, then the youngest, like the ReplicaSet controller's ranking.
            foreach (var pod in pods.OrderBy(p => IsReady(p)).ThenByDescending(p => Json.Str(p.Node, "metadata", "creationTimestamp")).ThenByDescending(p => p.ResourceVersion).Take(pods.Count - desired))
            {
                if (_store.Delete(ResourceKind.Pod, pod.Namespace, pod.Name, pod.Uid) is not null)
                {
                    _events.Record(rs, "Normal", "SuccessfulDelete", $"Deleted pod: {pod.Name}", "replicaset-controller");
                }
            }
        }
    }

    private void UpdateReplicaSetStatus(StoredObject rs)
    {
        var pods = PodsOf(_store, rs);
        var ready = pods.Count(IsReady);
        var status = new JsonObject
        {
            ["replicas"] = pods.Count,
            ["fullyLabeledReplicas"] = pods.Count,
            ["readyReplicas"] = ready,
            ["availableReplicas"] = ready,
            ["observedGeneration"] = Json.Long(rs.Node, "metadata", "generation") ?? 1,
        };
        if (ready == 0)
        {
            status.Remove("readyReplicas");
        }

        if (ready == 0)
        {
            status.Remove("availableReplicas");
        }

        if (pods.Count == 0)
        {
            status.Remove("fullyLabeledReplicas");
        }

        WriteStatus(_store, ResourceKind.ReplicaSet, rs, status);
    }

    internal static JsonObject OwnerRef(StoredObject owner) => new()
    {
        ["apiVersion"] = owner.Kind.ApiVersion,
        ["kind"] = owner.Kind.Kind,
        ["name"] = owner.Name,
        ["uid"] = owner.Uid,
        ["controller"] = true,
        ["blockOwnerDeletion"] = true,
    };

    internal static void WriteStatus(ObjectStore store, ResourceKind kind, StoredObject obj, JsonObject status)
    {
        store.Update(kind, obj.Namespace, obj.Name, cur =>
        {
            if (cur is null || cur.Uid != obj.Uid)
            {
                return null;
            }

            var next = cur.Clone();
            next["status"] = status;
            return next;
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        { await _loop.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        _stop.Dispose();
        _wake.Dispose();
        _puller?.Dispose();
    }
}

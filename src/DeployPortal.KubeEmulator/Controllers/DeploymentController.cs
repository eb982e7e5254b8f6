using System.Globalization;
using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Controllers;

/// <summary>
/// The Deployment controller's part of the reconcile loop: a ReplicaSet per pod-template hash, rolling updates within
/// maxSurge and maxUnavailable, revisions and rollback; the status, with the Progressing and Available conditions and
/// the progress deadline, is written by <see cref="DeploymentStatusWriter"/>.
/// </summary>
internal sealed class DeploymentController(ObjectStore store, EmulatorOptions options, EventRecorder events)
{
    private readonly DeploymentStatusWriter _status = new(store, options);

    /// <summary>Drops the progress clocks of deployments that are gone.</summary>
    public void Forget(IReadOnlySet<string> liveDeploymentUids) => _status.Forget(liveDeploymentUids);

    public void UpdateStatus(StoredObject d, DateTimeOffset now) => _status.Update(d, now);

    public void Reconcile(StoredObject d, DateTimeOffset now)
    {
        if (d.Node["spec"]?["paused"] is JsonValue p && p.GetValue<bool>())
        {
            return;
        }

        var desired = (int)(Json.Long(d.Node, "spec", "replicas") ?? 1);
        var template = d.Node["spec"]?["template"];
        var hash = PodTemplateHash.Of(template);
        var all = Rollout.ReplicaSetsOf(store, d);
        var newRs = all.FirstOrDefault(rs => Json.Str(rs.Node, "metadata", "labels", "pod-template-hash") == hash);
        var old = all.Where(rs => rs != newRs).ToList();
        var maxRevision = all.Count == 0 ? 0 : all.Max(Rollout.Revision);
        var recreate = Json.Str(d.Node, "spec", "strategy", "type") == "Recreate";
        var (surge, maxUnavailable) = Rollout.Limits(d, desired);
        int Replicas(StoredObject rs) => (int)(Json.Long(rs.Node, "spec", "replicas") ?? 0);
        var oldPods = old.Sum(rs => ClusterController.PodsOf(store, rs).Count);

        if (newRs is null)
        {
            var initial = recreate
                ? (oldPods == 0 && old.All(rs => Replicas(rs) == 0) ? desired : 0)
                : Math.Max(0, Math.Min(desired, desired + surge - old.Sum(Replicas)));
            var rsTemplate = template?.DeepClone() as JsonObject ?? new JsonObject();
            Json.Obj(Json.Obj(rsTemplate, "metadata"), "labels")["pod-template-hash"] = hash;
            var selector = d.Node["spec"]?["selector"]?.DeepClone() as JsonObject ?? new JsonObject();
            Json.Obj(selector, "matchLabels")["pod-template-hash"] = hash;
            var labels = (template?["metadata"]?["labels"]?.DeepClone() as JsonObject) ?? new JsonObject();
            labels["pod-template-hash"] = hash;
            var rsObj = new JsonObject
            {
                ["apiVersion"] = "apps/v1",
                ["kind"] = "ReplicaSet",
                ["metadata"] = new JsonObject
                {
                    ["name"] = $"{d.Name}-{hash}",
                    ["namespace"] = d.Namespace,
                    ["uid"] = Guid.NewGuid().ToString(),
                    ["creationTimestamp"] = Json.Time(now),
                    ["generation"] = 1,
                    ["labels"] = labels,
                    ["annotations"] = new JsonObject
                    {
                        ["deployment.kubernetes.io/desired-replicas"] = desired.ToString(CultureInfo.InvariantCulture),
                        ["deployment.kubernetes.io/max-replicas"] = (desired + surge).ToString(CultureInfo.InvariantCulture),
                        ["deployment.kubernetes.io/revision"] = (maxRevision + 1).ToString(CultureInfo.InvariantCulture),
                    },
                    ["ownerReferences"] = new JsonArray(ClusterController.OwnerRef(d)),
                },
                ["spec"] = new JsonObject { ["replicas"] = initial, ["selector"] = selector, ["template"] = rsTemplate },
                ["status"] = new JsonObject { ["replicas"] = 0 },
            };
            if (store.Create(ResourceKind.ReplicaSet, rsObj) is { } created)
            {
                events.Record(d, "Normal", "ScalingReplicaSet", $"Scaled up replica set {created.Name} from 0 to {initial}", "deployment-controller");
                _status.Progressed(d.Uid, now, "created:" + hash);
                SetDeploymentRevision(d, maxRevision + 1);
            }
            return;
        }

        if (Rollout.Revision(newRs) < maxRevision)
        {
            // Rolled back to an older template: it becomes the newest revision again.
            SetReplicaSetAnnotation(newRs, "deployment.kubernetes.io/revision", (maxRevision + 1).ToString(CultureInfo.InvariantCulture));
            SetDeploymentRevision(d, maxRevision + 1);
        }
        else
        {
            SetDeploymentRevision(d, Rollout.Revision(newRs));
        }

        var activeOld = old.Where(rs => Replicas(rs) > 0).ToList();
        if (recreate)
        {
            foreach (var rs in activeOld)
            {
                Scale(d, rs, 0);
            }

            if (oldPods == 0 && activeOld.Count == 0 && Replicas(newRs) != desired)
            {
                Scale(d, newRs, desired);
            }

            return;
        }
        if (activeOld.Count == 0)
        {
            if (Replicas(newRs) != desired)
            {
                Scale(d, newRs, desired);
            }

            return;
        }
        // Rolling update: scale up the new ReplicaSet within maxSurge...
        var total = all.Sum(Replicas);
        var allowedUp = desired + surge - total;
        if (allowedUp > 0 && Replicas(newRs) < desired)
        {
            Scale(d, newRs, Math.Min(desired, Replicas(newRs) + allowedUp));
        }
        // ...and scale old ones down while keeping desired - maxUnavailable available (unhealthy old pods go first).
        var available = all.Sum(rs => ClusterController.PodsOf(store, rs).Count(ClusterController.IsReady));
        var canRemove = available - (desired - maxUnavailable);
        foreach (var rs in activeOld.OrderBy(Rollout.Revision))
        {
            var pods = ClusterController.PodsOf(store, rs);
            var unhealthy = pods.Count(pp => !ClusterController.IsReady(pp));
            var remove = Math.Min(Replicas(rs), unhealthy + Math.Max(0, canRemove));
            if (remove <= 0)
            {
                continue;
            }

            canRemove -= Math.Max(0, remove - unhealthy);
            Scale(d, rs, Replicas(rs) - remove);
        }
        // Old ReplicaSets beyond revisionHistoryLimit are deleted.
        var limit = (int)(Json.Long(d.Node, "spec", "revisionHistoryLimit") ?? 10);
        foreach (var rs in old.Where(rs => Replicas(rs) == 0 && ClusterController.PodsOf(store, rs).Count == 0).OrderByDescending(Rollout.Revision).Skip(limit))
        {
            store.Delete(ResourceKind.ReplicaSet, rs.Namespace, rs.Name, rs.Uid);
        }
    }

    private void Scale(StoredObject d, StoredObject rs, int replicas)
    {
        var from = (int)(Json.Long(rs.Node, "spec", "replicas") ?? 0);
        if (from == replicas)
        {
            return;
        }

        store.Update(ResourceKind.ReplicaSet, rs.Namespace, rs.Name, cur =>
        {
            if (cur is null)
            {
                return null;
            }

            var next = cur.Clone();
            next["spec"]!["replicas"] = replicas;
            Json.Obj(Json.Obj(next, "metadata"), "annotations")["deployment.kubernetes.io/desired-replicas"] =
                (Json.Long(d.Node, "spec", "replicas") ?? 1).ToString(CultureInfo.InvariantCulture);
            return next;
        });
        events.Record(d, "Normal", "ScalingReplicaSet", $"Scaled {(replicas > from ? "up" : "down")} replica set {rs.Name} from {from} to {replicas}", "deployment-controller");
    }

    private void SetReplicaSetAnnotation(StoredObject rs, string key, string value) =>
        store.Update(ResourceKind.ReplicaSet, rs.Namespace, rs.Name, cur =>
        {
            if (cur is null)
            {
                return null;
            }

            var next = cur.Clone();
            Json.Obj(Json.Obj(next, "metadata"), "annotations")[key] = value;
            return next;
        });

    private void SetDeploymentRevision(StoredObject d, int revision)
    {
        var value = revision.ToString(CultureInfo.InvariantCulture);
        if (Json.Str(d.Node, "metadata", "annotations", "deployment.kubernetes.io/revision") == value)
        {
            return;
        }

        store.Update(ResourceKind.Deployment, d.Namespace, d.Name, cur =>
        {
            if (cur is null || cur.Uid != d.Uid)
            {
                return null;
            }

            var next = cur.Clone();
            Json.Obj(Json.Obj(next, "metadata"), "annotations")["deployment.kubernetes.io/revision"] = value;
            return next;
        });
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Controllers;

/// <summary>
/// The Deployment controller's part of the reconcile loop: a ReplicaSet per pod-template hash, rolling updates within
/// maxSurge and maxUnavailable, revisions and rollback, and the Progressing and Available conditions with the
/// progress deadline.
/// </summary>
internal sealed class DeploymentController(ObjectStore store, EmulatorOptions options, EventRecorder events)
{
    private readonly Dictionary<string, (DateTimeOffset At, string Snapshot)> _progress = new();

    /// <summary>Drops the progress clocks of deployments that are gone.</summary>
    public void Forget(IReadOnlySet<string> liveDeploymentUids)
    {
        foreach (var uid in _progress.Keys.Where(k => !liveDeploymentUids.Contains(k)).ToList())
        {
            _progress.Remove(uid);
        }
    }


    /// <summary>
    /// The pod-template-hash of a template. A real controller hashes the typed object, so the text of the JSON must not
    /// matter: keys are sorted and nulls and empty values dropped (<c>"creationTimestamp": null</c> from <c>rollout
    /// undo</c>), so an earlier template finds its ReplicaSet again.
    /// </summary>
    internal static string TemplateHash(JsonNode? template)
    {
        var clone = template?.DeepClone() as JsonObject ?? new JsonObject();
        (clone["metadata"] as JsonObject)?["labels"]?.AsObject().Remove("pod-template-hash");
        var bytes = System.Text.Encoding.UTF8.GetBytes(Normalised(clone)?.ToJsonString() ?? "{}");
        uint h = 2166136261;
        foreach (var b in bytes)
        { h ^= b; h *= 16777619; }
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var chars = new char[10];
        ulong v = h * 0x9E3779B97F4A7C15UL;
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[(int)(v % (ulong)alphabet.Length)];
            v /= (ulong)alphabet.Length;
            if (v == 0)
            {
                v = h + (ulong)i * 7919;
            }
        }
        return new string(chars);
    }

    /// <summary>Keys sorted; nulls, empty objects and empty lists dropped (Go omits them, or they decode as zero values).</summary>
    private static JsonNode? Normalised(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                var sorted = new JsonObject();
                foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (Normalised(v) is { } n)
                    {
                        sorted[k] = n;
                    }
                }

                return sorted.Count == 0 ? null : sorted;
            case JsonArray a:
                return a.Count == 0 ? null : new JsonArray(a.Select(i => Normalised(i) ?? new JsonObject()).ToArray());
            default:
                return node?.DeepClone();
        }
    }

    private List<StoredObject> ReplicaSetsOf(StoredObject d) =>
        store.List(ResourceKind.ReplicaSet, d.Namespace, rs => ClusterController.OwnerUid(rs, "Deployment") == d.Uid).Items;

    private static int Revision(StoredObject rs) =>
        int.TryParse(Json.Str(rs.Node, "metadata", "annotations", "deployment.kubernetes.io/revision"), CultureInfo.InvariantCulture, out var r) ? r : 0;

    private static int Scaled(JsonNode? value, int replicas, bool roundUp)
    {
        if (value is JsonValue v && v.TryGetValue<int>(out var i))
        {
            return i;
        }

        var s = value?.ToString() ?? "25%";
        if (s.EndsWith('%') && double.TryParse(s[..^1], CultureInfo.InvariantCulture, out var pct))
        {
            return (int)(roundUp ? Math.Ceiling(replicas * pct / 100) : Math.Floor(replicas * pct / 100));
        }

        return int.TryParse(s, CultureInfo.InvariantCulture, out i) ? i : 0;
    }

    private (int Surge, int Unavailable) Limits(StoredObject d, int desired)
    {
        var ru = d.Node["spec"]?["strategy"]?["rollingUpdate"];
        var surge = Scaled(ru?["maxSurge"], desired, roundUp: true);
        var unavailable = Scaled(ru?["maxUnavailable"], desired, roundUp: false);
        if (surge == 0 && unavailable == 0)
        {
            unavailable = 1;
        }

        return (surge, unavailable);
    }

    public void Reconcile(StoredObject d, DateTimeOffset now)
    {
        if (d.Node["spec"]?["paused"] is JsonValue p && p.GetValue<bool>())
        {
            return;
        }

        var desired = (int)(Json.Long(d.Node, "spec", "replicas") ?? 1);
        var template = d.Node["spec"]?["template"];
        var hash = TemplateHash(template);
        var all = ReplicaSetsOf(d);
        var newRs = all.FirstOrDefault(rs => Json.Str(rs.Node, "metadata", "labels", "pod-template-hash") == hash);
        var old = all.Where(rs => rs != newRs).ToList();
        var maxRevision = all.Count == 0 ? 0 : all.Max(Revision);
        var recreate = Json.Str(d.Node, "spec", "strategy", "type") == "Recreate";
        var (surge, maxUnavailable) = Limits(d, desired);
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
                _progress[d.Uid] = (now, "created:" + hash);
                SetDeploymentRevision(d, maxRevision + 1);
            }
            return;
        }

        if (Revision(newRs) < maxRevision)
        {
            // Rolled back to an older template: it becomes the newest revision again.
            SetReplicaSetAnnotation(newRs, "deployment.kubernetes.io/revision", (maxRevision + 1).ToString(CultureInfo.InvariantCulture));
            SetDeploymentRevision(d, maxRevision + 1);
        }
        else
        {
            SetDeploymentRevision(d, Revision(newRs));
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
        foreach (var rs in activeOld.OrderBy(Revision))
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
        foreach (var rs in old.Where(rs => Replicas(rs) == 0 && ClusterController.PodsOf(store, rs).Count == 0).OrderByDescending(Revision).Skip(limit))
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

    public void UpdateStatus(StoredObject d, DateTimeOffset now)
    {
        var desired = (int)(Json.Long(d.Node, "spec", "replicas") ?? 1);
        var hash = TemplateHash(d.Node["spec"]?["template"]);
        var all = ReplicaSetsOf(d);
        var newRs = all.FirstOrDefault(rs => Json.Str(rs.Node, "metadata", "labels", "pod-template-hash") == hash);
        var podsByRs = all.ToDictionary(rs => rs.Uid, rs => ClusterController.PodsOf(store, rs));
        var total = podsByRs.Values.Sum(p => p.Count);
        var updated = newRs is null ? 0 : podsByRs[newRs.Uid].Count;
        var ready = podsByRs.Values.Sum(p => p.Count(ClusterController.IsReady));
        var updatedReady = newRs is null ? 0 : podsByRs[newRs.Uid].Count(ClusterController.IsReady);
        var (_, maxUnavailable) = Limits(d, desired);
        var generation = Json.Long(d.Node, "metadata", "generation") ?? 1;
        var complete = newRs is not null && updated == desired && total == desired && updatedReady == desired;

        var snapshot = $"{hash}|{desired}|{total}|{updated}|{ready}|{updatedReady}";
        if (!_progress.TryGetValue(d.Uid, out var progress))
        {
            progress = _progress[d.Uid] = (now, snapshot);
        }
        else if (progress.Snapshot != snapshot)
        {
            progress = _progress[d.Uid] = (now, snapshot);
        }

        var deadline = TimeSpan.FromSeconds(Json.Long(d.Node, "spec", "progressDeadlineSeconds") ?? options.DefaultProgressDeadlineSeconds);

        var old = d.Node["status"] as JsonObject;
        var rsName = newRs?.Name ?? d.Name;
        var available = ready >= desired - maxUnavailable;
        var conds = new JsonArray
        {
            Condition(old, "Available", available, available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                available ? "Deployment has minimum availability." : "Deployment does not have minimum availability.", now, null),
        };
        var oldProgressing = (old?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => Json.Str(c, "type") == "Progressing");
        string reason, message;
        bool progressing;
        if (complete)
        { progressing = true; reason = "NewReplicaSetAvailable"; message = $"ReplicaSet \"{rsName}\" has successfully progressed."; }
        else if (now - progress.At > deadline)
        { progressing = false; reason = "ProgressDeadlineExceeded"; message = $"ReplicaSet \"{rsName}\" has timed out progressing."; }
        else if (updated == 0 && total == 0)
        { progressing = true; reason = "NewReplicaSetCreated"; message = $"Created new replica set \"{rsName}\""; }
        else
        { progressing = true; reason = "ReplicaSetUpdated"; message = $"ReplicaSet \"{rsName}\" is progressing."; }
        // lastUpdateTime moves when the rollout makes progress; a terminal reason keeps the time it was first reported.
        var lastUpdate = reason is "ProgressDeadlineExceeded" or "NewReplicaSetAvailable"
            ? (Json.Str(oldProgressing, "reason") == reason ? Json.Str(oldProgressing, "lastUpdateTime") : Json.Time(now))
            : Json.Time(progress.At);
        conds.Add(Condition(old, "Progressing", progressing, reason, message, now, lastUpdate));

        var status = new JsonObject { ["observedGeneration"] = generation };
        if (total > 0)
        {
            status["replicas"] = total;
        }

        if (updated > 0)
        {
            status["updatedReplicas"] = updated;
        }

        if (ready > 0)
        { status["readyReplicas"] = ready; status["availableReplicas"] = ready; }
        if (desired - ready > 0)
        {
            status["unavailableReplicas"] = Math.Max(0, Math.Max(desired, total) - ready);
        }

        status["conditions"] = conds;
        ClusterController.WriteStatus(store, ResourceKind.Deployment, d, status);
    }

    private static JsonObject Condition(JsonObject? oldStatus, string type, bool value, string reason, string message, DateTimeOffset now, string? lastUpdate)
    {
        var statusText = value ? "True" : "False";
        var previous = (oldStatus?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => Json.Str(c, "type") == type);
        var sameStatus = previous is not null && Json.Str(previous, "status") == statusText;
        var sameReason = sameStatus && Json.Str(previous, "reason") == reason;
        return new JsonObject
        {
            ["type"] = type,
            ["status"] = statusText,
            ["lastUpdateTime"] = lastUpdate ?? (sameReason ? Json.Str(previous, "lastUpdateTime") : Json.Time(now)),
            ["lastTransitionTime"] = sameStatus ? Json.Str(previous, "lastTransitionTime") : Json.Time(now),
            ["reason"] = reason,
            ["message"] = message,
        };
    }
}

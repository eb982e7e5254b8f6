using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Controllers;

/// <summary>
/// Writes a Deployment's status: replica counts and the Progressing and Available conditions, with a progress clock
/// per deployment for the progress deadline.
/// </summary>
internal sealed class DeploymentStatusWriter(ObjectStore store, EmulatorOptions options)
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

    /// <summary>Restarts a deployment's progress clock (a new ReplicaSet was created).</summary>
    public void Progressed(string deploymentUid, DateTimeOffset at, string snapshot) => _progress[deploymentUid] = (at, snapshot);

    public void Update(StoredObject d, DateTimeOffset now)
    {
        var desired = (int)(Json.Long(d.Node, "spec", "replicas") ?? 1);
        var hash = PodTemplateHash.Of(d.Node["spec"]?["template"]);
        var all = Rollout.ReplicaSetsOf(store, d);
        var newRs = all.FirstOrDefault(rs => Json.Str(rs.Node, "metadata", "labels", "pod-template-hash") == hash);
        var podsByRs = all.ToDictionary(rs => rs.Uid, rs => ClusterController.PodsOf(store, rs));
        var total = podsByRs.Values.Sum(p => p.Count);
        var updated = newRs is null ? 0 : podsByRs[newRs.Uid].Count;
        var ready = podsByRs.Values.Sum(p => p.Count(ClusterController.IsReady));
        var updatedReady = newRs is null ? 0 : podsByRs[newRs.Uid].Count(ClusterController.IsReady);
        var (_, maxUnavailable) = Rollout.Limits(d, desired);
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

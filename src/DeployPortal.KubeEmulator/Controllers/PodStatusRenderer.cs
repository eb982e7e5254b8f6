using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Controllers;

/// <summary>
/// Renders the <c>status</c> of a pod from its <see cref="PodRuntime"/>: phase, conditions (keeping their transition
/// times while unchanged), IPs and the container statuses.
/// </summary>
internal static class PodStatusRenderer
{
    public static JsonObject Render(PodRuntime runtime, StoredObject pod, DateTimeOffset now, EmulatorOptions options)
    {
        var old = pod.Node["status"] as JsonObject;
        var status = new JsonObject();
        var allStarted = runtime.Containers.All(c => c.EverStarted);
        var allReady = runtime.Containers.Count > 0 && runtime.Containers.All(c => c.Ready);
        status["phase"] = runtime.ScheduledAt is not null && allStarted ? "Running" : "Pending";
        var conds = new JsonArray();
        if (runtime.ScheduledAt is { } s)
        {
            var sandbox = now - s >= options.ContainerCreatingDelay;
            conds.Add(Condition(old, "PodReadyToStartContainers", sandbox, null, now));
            conds.Add(Condition(old, "Initialized", true, null, now));
            conds.Add(Condition(old, "Ready", allReady, allReady ? null : "ContainersNotReady", now, NotReadyMessage()));
            conds.Add(Condition(old, "ContainersReady", allReady, allReady ? null : "ContainersNotReady", now, NotReadyMessage()));
            conds.Add(Condition(old, "PodScheduled", true, null, now));
            status["conditions"] = conds;
            status["hostIP"] = ClusterController.NodeIp;
            status["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = ClusterController.NodeIp });
            if (sandbox)
            {
                status["podIP"] = runtime.PodIp;
                status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = runtime.PodIp });
            }
            status["startTime"] = Json.Time(s);
            var cs = new JsonArray();
            foreach (var c in runtime.Containers)
            {
                var state = new JsonObject();
                if (c.RunningSince is { } since)
                {
                    state["running"] = new JsonObject { ["startedAt"] = Json.Time(since) };
                }
                else
                {
                    var w = new JsonObject { ["reason"] = c.WaitingReason ?? "ContainerCreating" };
                    if (c.WaitingMessage is not null)
                    {
                        w["message"] = c.WaitingMessage;
                    }

                    state["waiting"] = w;
                }
                var entry = new JsonObject
                {
                    ["name"] = c.Name,
                    ["state"] = state,
                    ["lastState"] = c.LastTerminated?.DeepClone() ?? new JsonObject(),
                    ["ready"] = c.Ready,
                    ["restartCount"] = c.RestartCount,
                    ["image"] = c.Image,
                    ["imageID"] = c.EverStarted ? $"{c.Image.Split(':')[0]}@sha256:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(c.Image)))}" : "",
                    ["started"] = c.RunningSince is not null,
                };
                if (c.ContainerId.Length > 0)
                {
                    entry["containerID"] = c.ContainerId;
                }

                cs.Add(entry);
            }
            status["containerStatuses"] = cs;
        }
        status["qosClass"] = Json.Str(old, "qosClass") ?? "BestEffort";
        return status;

        string? NotReadyMessage()
        {
            var notReady = runtime.Containers.Where(c => !c.Ready).Select(c => c.Name).ToList();
            return notReady.Count == 0 ? null : $"containers with unready status: [{string.Join(' ', notReady)}]";
        }
    }

    private static JsonObject Condition(JsonObject? oldStatus, string type, bool value, string? reason, DateTimeOffset now, string? message = null)
    {
        var statusText = value ? "True" : "False";
        var previous = (oldStatus?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => Json.Str(c, "type") == type);
        var transition = previous is not null && Json.Str(previous, "status") == statusText ? Json.Str(previous, "lastTransitionTime") : Json.Time(now);
        var c = new JsonObject { ["type"] = type, ["status"] = statusText, ["lastProbeTime"] = null, ["lastTransitionTime"] = transition };
        if (reason is not null)
        {
            c["reason"] = reason;
        }

        if (message is not null)
        {
            c["message"] = message;
        }

        return c;
    }
}

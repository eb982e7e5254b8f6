using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>The defaults a real API server fills in on write (replicas, strategy, pod spec fields, cluster IPs, …).</summary>
internal sealed class Defaulting(EmulatorOptions options)
{
    private int _nextClusterIp = 10;

    public void Apply(ResourceKind kind, JsonObject obj, JsonObject? live)
    {
        var spec = obj["spec"] as JsonObject;
        switch (kind.Kind)
        {
            case "Namespace":
                Json.Obj(Json.Obj(obj, "metadata"), "labels")["kubernetes.io/metadata.name"] = Json.Str(obj, "metadata", "name");
                Json.Obj(obj, "spec")["finalizers"] ??= new JsonArray("kubernetes");
                Json.Obj(obj, "status")["phase"] ??= "Active";
                break;
            case "Deployment":
                spec = Json.Obj(obj, "spec");
                spec["replicas"] ??= 1;
                spec["revisionHistoryLimit"] ??= 10;
                spec["progressDeadlineSeconds"] ??= options.DefaultProgressDeadlineSeconds;
                var strategy = Json.Obj(spec, "strategy");
                strategy["type"] ??= "RollingUpdate";
                if (Json.Str(strategy, "type") == "RollingUpdate")
                {
                    var ru = Json.Obj(strategy, "rollingUpdate");
                    ru["maxUnavailable"] ??= "25%";
                    ru["maxSurge"] ??= "25%";
                }
                DefaultPodSpec(Json.Obj(Json.Obj(spec, "template"), "spec"));
                obj["status"] ??= new JsonObject();
                break;
            case "ReplicaSet":
                spec = Json.Obj(obj, "spec");
                spec["replicas"] ??= 1;
                DefaultPodSpec(Json.Obj(Json.Obj(spec, "template"), "spec"));
                break;
            case "Pod":
                DefaultPodSpec(Json.Obj(obj, "spec"));
                var status = Json.Obj(obj, "status");
                status["phase"] ??= "Pending";
                status["qosClass"] ??= "BestEffort";
                break;
            case "Service":
                spec = Json.Obj(obj, "spec");
                spec["type"] ??= "ClusterIP";
                spec["sessionAffinity"] ??= "None";
                if (Json.Str(spec, "clusterIP") is null && Json.Str(live?["spec"], "clusterIP") is { } ip)
                {
                    spec["clusterIP"] = ip;
                }

                if (Json.Str(spec, "clusterIP") is null)
                {
                    spec["clusterIP"] = $"10.96.{(Interlocked.Increment(ref _nextClusterIp) / 250) % 250}.{_nextClusterIp % 250 + 2}";
                }

                spec["clusterIPs"] ??= new JsonArray(Json.Str(spec, "clusterIP"));
                spec["ipFamilies"] ??= new JsonArray("IPv4");
                spec["ipFamilyPolicy"] ??= "SingleStack";
                spec["internalTrafficPolicy"] ??= "Cluster";
                if (spec["ports"] is JsonArray ports)
                {
                    foreach (var p in ports.OfType<JsonObject>())
                    {
                        p["protocol"] ??= "TCP";
                        p["targetPort"] ??= p["port"]?.DeepClone();
                    }
                }

                Json.Obj(Json.Obj(obj, "status"), "loadBalancer");
                break;
            case "Secret":
                obj["type"] ??= "Opaque";
                break;
            case "Ingress":
                var lb = Json.Obj(Json.Obj(obj, "status"), "loadBalancer");
                lb["ingress"] ??= new JsonArray(new JsonObject { ["ip"] = "127.0.0.1" });
                break;
        }
    }

    private static void DefaultPodSpec(JsonObject podSpec)
    {
        podSpec["restartPolicy"] ??= "Always";
        podSpec["terminationGracePeriodSeconds"] ??= 30;
        podSpec["dnsPolicy"] ??= "ClusterFirst";
        podSpec["schedulerName"] ??= "default-scheduler";
        podSpec["securityContext"] ??= new JsonObject();
        if (podSpec["containers"] is JsonArray cs)
        {
            foreach (var c in cs.OfType<JsonObject>())
            {
                var image = Json.Str(c, "image") ?? "";
                var tag = image.Contains(':', StringComparison.Ordinal) ? image[(image.LastIndexOf(':') + 1)..] : "";
                c["imagePullPolicy"] ??= tag is "" or "latest" || tag.Contains('/', StringComparison.Ordinal) ? "Always" : "IfNotPresent";
                c["terminationMessagePath"] ??= "/dev/termination-log";
                c["terminationMessagePolicy"] ??= "File";
                c["resources"] ??= new JsonObject();
                if (c["ports"] is JsonArray ps)
                {
                    foreach (var p in ps.OfType<JsonObject>())
                    {
                        p["protocol"] ??= "TCP";
                    }
                }
            }
        }
    }
}

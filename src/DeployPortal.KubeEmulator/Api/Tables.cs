using System.Globalization;
using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>
/// Server-side printing: the <c>meta.k8s.io/v1 Table</c> that kubectl asks for with
/// <c>Accept: application/json;as=Table;v=v1;g=meta.k8s.io</c>, with the columns of the real printers.
/// </summary>
internal static class Tables
{
    public static bool Wanted(string? accept) =>
        accept is not null && accept.Contains("as=Table", StringComparison.OrdinalIgnoreCase);

    private static (string Name, string Type, int Priority, string Format)[] Columns(ResourceKind kind) => kind.Kind switch
    {
        "Namespace" => [("Name", "string", 0, "name"), ("Status", "string", 0, ""), ("Age", "string", 0, "")],
        "Pod" => [("Name", "string", 0, "name"), ("Ready", "string", 0, ""), ("Status", "string", 0, ""), ("Restarts", "string", 0, ""), ("Age", "string", 0, ""),
                  ("IP", "string", 1, ""), ("Node", "string", 1, ""), ("Nominated Node", "string", 1, ""), ("Readiness Gates", "string", 1, "")],
        "Deployment" => [("Name", "string", 0, "name"), ("Ready", "string", 0, ""), ("Up-to-date", "integer", 0, ""), ("Available", "integer", 0, ""), ("Age", "string", 0, ""),
                         ("Containers", "string", 1, ""), ("Images", "string", 1, ""), ("Selector", "string", 1, "")],
        "ReplicaSet" => [("Name", "string", 0, "name"), ("Desired", "integer", 0, ""), ("Current", "integer", 0, ""), ("Ready", "integer", 0, ""), ("Age", "string", 0, ""),
                         ("Containers", "string", 1, ""), ("Images", "string", 1, ""), ("Selector", "string", 1, "")],
        "Service" => [("Name", "string", 0, "name"), ("Type", "string", 0, ""), ("Cluster-IP", "string", 0, ""), ("External-IP", "string", 0, ""), ("Port(s)", "string", 0, ""), ("Age", "string", 0, ""),
                      ("Selector", "string", 1, "")],
        "Ingress" => [("Name", "string", 0, "name"), ("Class", "string", 0, ""), ("Hosts", "string", 0, ""), ("Address", "string", 0, ""), ("Ports", "string", 0, ""), ("Age", "string", 0, "")],
        "Event" => [("Last Seen", "string", 0, ""), ("Type", "string", 0, ""), ("Reason", "string", 0, ""), ("Object", "string", 0, ""), ("Subobject", "string", 1, ""),
                    ("Source", "string", 1, ""), ("Message", "string", 0, ""), ("First Seen", "string", 1, ""), ("Count", "string", 1, ""), ("Name", "string", 1, "")],
        _ => [("Name", "string", 0, "name"), ("Age", "string", 0, "")],
    };

    public static JsonObject Build(ResourceKind kind, IEnumerable<StoredObject> items, long resourceVersion, string? includeObject, DateTimeOffset now, bool headers = true)
    {
        var cols = new JsonArray();
        if (headers)
        {
            foreach (var (name, type, priority, format) in Columns(kind))
            {
                cols.Add(new JsonObject { ["name"] = name, ["type"] = type, ["format"] = format, ["description"] = name, ["priority"] = priority });
            }
        }

        var rows = new JsonArray();
        foreach (var o in items)
        {
            rows.Add(Row(kind, o, includeObject, now));
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) },
            ["columnDefinitions"] = cols,
            ["rows"] = rows,
        };
    }

    private static JsonObject Row(ResourceKind kind, StoredObject o, string? includeObject, DateTimeOffset now)
    {
        var n = o.Node;
        var age = Age(Json.ParseTime(n["metadata"]?["creationTimestamp"]), now);
        JsonArray cells = kind.Kind switch
        {
            "Namespace" => [o.Name, Json.Str(n, "status", "phase") ?? "Active", age],
            "Pod" => PodCells(n, o.Name, age, now),
            "Deployment" => [o.Name, $"{Json.Long(n, "status", "readyReplicas") ?? 0}/{Json.Long(n, "spec", "replicas") ?? 1}",
                Json.Long(n, "status", "updatedReplicas") ?? 0, Json.Long(n, "status", "availableReplicas") ?? 0, age,
                ContainerNames(n["spec"]?["template"]?["spec"]), Images(n["spec"]?["template"]?["spec"]), SelectorText(n["spec"]?["selector"])],
            "ReplicaSet" => [o.Name, Json.Long(n, "spec", "replicas") ?? 0, Json.Long(n, "status", "replicas") ?? 0, Json.Long(n, "status", "readyReplicas") ?? 0, age,
                ContainerNames(n["spec"]?["template"]?["spec"]), Images(n["spec"]?["template"]?["spec"]), SelectorText(n["spec"]?["selector"])],
            "Service" => [o.Name, Json.Str(n, "spec", "type") ?? "ClusterIP", Json.Str(n, "spec", "clusterIP") ?? "<none>", ExternalIp(n), Ports(n), age,
                n["spec"]?["selector"] is JsonObject sel && sel.Count > 0 ? string.Join(',', sel.Select(p => $"{p.Key}={p.Value}")) : "<none>"],
            "Ingress" => [o.Name, Json.Str(n, "spec", "ingressClassName") ?? "<none>", IngressHosts(n), IngressAddress(n), n["spec"]?["tls"] is JsonArray { Count: > 0 } ? "80, 443" : "80", age],
            "Event" => [Age(Json.ParseTime(n["lastTimestamp"]) ?? Json.ParseTime(n["metadata"]?["creationTimestamp"]), now), Json.Str(n, "type") ?? "",
                Json.Str(n, "reason") ?? "", $"{Json.Str(n, "involvedObject", "kind")?.ToLowerInvariant()}/{Json.Str(n, "involvedObject", "name")}",
                Json.Str(n, "involvedObject", "fieldPath") ?? "", Json.Str(n, "source", "component") ?? "", Json.Str(n, "message") ?? "",
                Age(Json.ParseTime(n["firstTimestamp"]), now), (Json.Long(n, "count") ?? 1).ToString(CultureInfo.InvariantCulture), o.Name],
            _ => [o.Name, age],
        };
        var row = new JsonObject { ["cells"] = cells };
        switch (includeObject)
        {
            case "None":
                break;
            case "Object":
                row["object"] = n.DeepClone();
                break;
            default:
                var meta = n["metadata"]!.DeepClone().AsObject();
                meta.Remove("managedFields");
                row["object"] = new JsonObject { ["kind"] = "PartialObjectMetadata", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = meta };
                break;
        }
        return row;
    }

    private static JsonArray PodCells(JsonObject n, string name, string age, DateTimeOffset now)
    {
        var statuses = (n["status"]?["containerStatuses"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var total = (n["spec"]?["containers"] as JsonArray)?.Count ?? 0;
        var ready = statuses.Count(s => s["ready"] is JsonValue v && v.GetValue<bool>());
        var restarts = statuses.Sum(s => Json.Long(s, "restartCount") ?? 0);
        var reason = Json.Str(n, "status", "reason") ?? Json.Str(n, "status", "phase") ?? "Pending";
        var lastRestart = statuses.Select(s => Json.ParseTime(s["lastState"]?["terminated"]?["finishedAt"])).Where(t => t is not null).Max();
        var hasRunning = false;
        for (var i = statuses.Count - 1; i >= 0; i--)
        {
            var st = statuses[i]["state"];
            if (Json.Str(st, "waiting", "reason") is { Length: > 0 } w)
            {
                reason = w;
            }
            else if (Json.Str(st, "terminated", "reason") is { Length: > 0 } t)
            {
                reason = t;
            }
            else if (st?["terminated"] is JsonObject term)
            {
                reason = $"ExitCode:{Json.Long(term, "exitCode")}";
            }
            else if (st?["running"] is not null && statuses[i]["ready"] is JsonValue r && r.GetValue<bool>())
            {
                hasRunning = true;
            }
        }
        if (reason == "Completed" && hasRunning)
        {
            reason = "Running";
        }

        if (n["metadata"]?["deletionTimestamp"] is not null)
        {
            reason = "Terminating";
        }

        var restartText = restarts.ToString(CultureInfo.InvariantCulture) + (lastRestart is { } lr ? $" ({Age(lr, now)} ago)" : "");
        return [name, $"{ready}/{total}", reason, restartText, age, Json.Str(n, "status", "podIP") ?? "<none>", Json.Str(n, "spec", "nodeName") ?? "<none>", "<none>", "<none>"];
    }

    private static string ContainerNames(JsonNode? podSpec) =>
        string.Join(',', (podSpec?["containers"] as JsonArray)?.Select(c => Json.Str(c, "name")) ?? []);
    private static string Images(JsonNode? podSpec) =>
        string.Join(',', (podSpec?["containers"] as JsonArray)?.Select(c => Json.Str(c, "image")) ?? []);

    private static string SelectorText(JsonNode? selector)
    {
        var parts = new List<string>();
        if (selector?["matchLabels"] is JsonObject ml)
        {
            parts.AddRange(ml.Select(p => $"{p.Key}={p.Value}"));
        }

        if (selector?["matchExpressions"] is JsonArray me)
        {
            parts.AddRange(me.OfType<JsonObject>().Select(e => $"{Json.Str(e, "key")} {Json.Str(e, "operator")?.ToLowerInvariant()} ({string.Join(',', (e["values"] as JsonArray)?.Select(v => (string?)v) ?? [])})"));
        }

        return parts.Count == 0 ? "<none>" : string.Join(',', parts);
    }

    private static string ExternalIp(JsonObject n)
    {
        var type = Json.Str(n, "spec", "type");
        var ips = (n["status"]?["loadBalancer"]?["ingress"] as JsonArray)?.Select(i => Json.Str(i, "ip") ?? Json.Str(i, "hostname")).ToList() ?? [];
        return type switch
        {
            "LoadBalancer" => ips.Count > 0 ? string.Join(',', ips) : "<pending>",
            "ExternalName" => Json.Str(n, "spec", "externalName") ?? "<none>",
            _ => "<none>",
        };
    }

    private static string Ports(JsonObject n)
    {
        var ports = (n["spec"]?["ports"] as JsonArray)?.OfType<JsonObject>().Select(p =>
            Json.Long(p, "nodePort") is { } np ? $"{Json.Long(p, "port")}:{np}/{Json.Str(p, "protocol") ?? "TCP"}" : $"{Json.Long(p, "port")}/{Json.Str(p, "protocol") ?? "TCP"}").ToList();
        return ports is { Count: > 0 } ? string.Join(',', ports) : "<none>";
    }

    private static string IngressHosts(JsonObject n)
    {
        var hosts = (n["spec"]?["rules"] as JsonArray)?.Select(r => Json.Str(r, "host")).Where(h => !string.IsNullOrEmpty(h)).ToList() ?? [];
        return hosts.Count == 0 ? "*" : string.Join(',', hosts);
    }

    private static string IngressAddress(JsonObject n)
    {
        var ips = (n["status"]?["loadBalancer"]?["ingress"] as JsonArray)?.Select(i => Json.Str(i, "ip") ?? Json.Str(i, "hostname")).ToList() ?? [];
        return string.Join(',', ips);
    }

    /// <summary>kubectl's HumanDuration ("45s", "3m12s", "5h", "2d3h").</summary>
    public static string Age(DateTimeOffset? since, DateTimeOffset now)
    {
        if (since is null)
        {
            return "<unknown>";
        }

        var d = now - since.Value;
        var seconds = (int)d.TotalSeconds;
        if (seconds < -1)
        {
            return "<invalid>";
        }

        if (seconds < 0)
        {
            return "0s";
        }

        if (seconds < 120)
        {
            return $"{seconds}s";
        }

        var minutes = (int)d.TotalMinutes;
        if (minutes < 10)
        {
            return seconds % 60 == 0 ? $"{minutes}m" : $"{minutes}m{seconds % 60}s";
        }

        if (minutes < 180)
        {
            return $"{minutes}m";
        }

        var hours = (int)d.TotalHours;
        if (hours < 8)
        {
            return minutes % 60 == 0 ? $"{hours}h" : $"{hours}h{minutes % 60}m";
        }

        if (hours < 48)
        {
            return $"{hours}h";
        }

        if (hours < 24 * 8)
        {
            return hours % 24 == 0 ? $"{hours / 24}d" : $"{hours / 24}d{hours % 24}h";
        }

        if (hours < 24 * 365 * 2)
        {
            return $"{hours / 24}d";
        }

        if (hours < 24 * 365 * 8)
        {
            return (hours / 24) % 365 == 0 ? $"{hours / 24 / 365}y" : $"{hours / 24 / 365}y{(hours / 24) % 365}d";
        }

        return $"{hours / 24 / 365}y";
    }
}

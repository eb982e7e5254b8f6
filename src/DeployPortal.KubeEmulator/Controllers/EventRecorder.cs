using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Controllers;

/// <summary>Writes core/v1 Events, aggregating repeats into <c>count</c> like the real event recorder.</summary>
internal sealed class EventRecorder(ObjectStore store, EmulatorOptions options, TimeProvider time)
{
    private readonly Dictionary<string, string> _names = new();
    private readonly Dictionary<string, Queue<string>> _perNamespace = new();
    private readonly object _lock = new();
    private long _lastNanos;

    public void Record(StoredObject involved, string type, string reason, string message, string component = "kubelet", string? fieldPath = null)
    {
        var ns = involved.Namespace.Length == 0 ? "default" : involved.Namespace;
        var key = $"{involved.Uid}|{reason}|{message}|{fieldPath}";
        var now = Json.Time(time.GetUtcNow());
        lock (_lock)
        {
            if (_names.TryGetValue(key, out var existing) && store.Get(ResourceKind.Event, ns, existing) is not null)
            {
                store.Update(ResourceKind.Event, ns, existing, cur =>
                {
                    if (cur is null)
                    {
                        return null;
                    }

                    var e = cur.Clone();
                    e["count"] = (Json.Long(e, "count") ?? 1) + 1;
                    e["lastTimestamp"] = now;
                    return e;
                });
                return;
            }
            // Like the real recorder: "<object>.<unix nanos in hex>", so names sort chronologically.
            var nanos = Math.Max(_lastNanos + 1, (time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) * 100);
            _lastNanos = nanos;
            var name = $"{involved.Name}.{nanos:x}";
            _names[key] = name;
            var involvedRef = new JsonObject
            {
                ["kind"] = involved.Kind.Kind,
                ["namespace"] = involved.Namespace.Length == 0 ? null : involved.Namespace,
                ["name"] = involved.Name,
                ["uid"] = involved.Uid,
                ["apiVersion"] = involved.Kind.ApiVersion,
                ["resourceVersion"] = involved.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            if (involvedRef["namespace"] is null)
            {
                involvedRef.Remove("namespace");
            }

            if (fieldPath is not null)
            {
                involvedRef["fieldPath"] = fieldPath;
            }

            var ev = new JsonObject
            {
                ["kind"] = "Event",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject
                {
                    ["name"] = name,
                    ["namespace"] = ns,
                    ["uid"] = Guid.NewGuid().ToString(),
                    ["creationTimestamp"] = now,
                },
                ["involvedObject"] = involvedRef,
                ["reason"] = reason,
                ["message"] = message,
                ["source"] = component == "kubelet" ? new JsonObject { ["component"] = component, ["host"] = ClusterController.NodeName } : new JsonObject { ["component"] = component },
                ["firstTimestamp"] = now,
                ["lastTimestamp"] = now,
                ["count"] = 1,
                ["type"] = type,
                ["eventTime"] = null,
                ["reportingComponent"] = component,
                ["reportingInstance"] = component == "kubelet" ? ClusterController.NodeName : "",
            };
            if (store.Get(ResourceKind.Namespace, "", ns) is null)
            {
                return;
            }

            store.Create(ResourceKind.Event, ev);
            if (!_perNamespace.TryGetValue(ns, out var q))
            {
                _perNamespace[ns] = q = new Queue<string>();
            }

            q.Enqueue(name);
            while (q.Count > options.MaxEventsPerNamespace)
            {
                store.Delete(ResourceKind.Event, ns, q.Dequeue());
            }
        }
    }
}

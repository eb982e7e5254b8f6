using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>
/// <c>metadata.managedFields</c> as the API server keeps it: which manager (kubectl, the portal, a controller) set which
/// leaf fields by which operation (Update or Apply), in the FieldsV1 encoding, so server-side apply can find conflicts.
/// </summary>
internal sealed class ManagedFields(TimeProvider time)
{
    private static readonly string[][] UnownedPaths =
    [
        ["apiVersion"], ["kind"], ["metadata", "name"], ["metadata", "namespace"], ["metadata", "uid"],
        ["metadata", "resourceVersion"], ["metadata", "generation"], ["metadata", "creationTimestamp"],
        ["metadata", "managedFields"], ["metadata", "deletionTimestamp"], ["metadata", "selfLink"],
    ];

    public void TrackUpdate(JsonObject live, JsonObject next, string manager)
    {
        var changed = OwnedLeaves(next).Where(p => !JsonNode.DeepEquals(Json.At(live, p), Json.At(next, p))).ToList();
        if (changed.Count == 0)
        {
            return;
        }

        var managers = Read(live);
        foreach (var (mgr, entry) in managers)
        {
            entry.Paths.RemoveAll(p => changed.Any(c => c.SequenceEqual(p)));
        }

        if (managers.TryGetValue(manager, out var mine) && mine.Operation == "Update")
        {
            mine.Paths.AddRange(changed.Where(c => !mine.Paths.Any(p => p.SequenceEqual(c))));
        }
        else
        {
            managers[manager] = ("Update", changed);
        }

        Write(next, managers);
    }

    public static IEnumerable<string[]> OwnedLeaves(JsonObject o) =>
        Json.Leaves(o).Where(p => p[0] != "status" && !UnownedPaths.Any(u => u.SequenceEqual(p)));

    public static Dictionary<string, (string Operation, List<string[]> Paths)> Read(JsonObject obj)
    {
        var result = new Dictionary<string, (string, List<string[]>)>();
        if (obj["metadata"]?["managedFields"] is JsonArray arr)
        {
            foreach (var e in arr.OfType<JsonObject>())
            {
                if (Json.Str(e, "manager") is { } m && Json.Str(e, "subresource") is null)
                {
                    result[m] = (Json.Str(e, "operation") ?? "Update", Json.FromFieldsV1(e["fieldsV1"] as JsonObject));
                }
            }
        }

        return result;
    }

    public void Write(JsonObject obj, Dictionary<string, (string Operation, List<string[]> Paths)> managers)
    {
        var previous = (obj["metadata"]?["managedFields"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var arr = new JsonArray();
        foreach (var (m, e) in managers)
        {
            if (e.Paths.Count == 0)
            {
                continue;
            }

            var fields = Json.FieldsV1(e.Paths);
            var same = previous.FirstOrDefault(p => Json.Str(p, "manager") == m && Json.Str(p, "operation") == e.Operation && JsonNode.DeepEquals(p["fieldsV1"], fields));
            arr.Add(new JsonObject
            {
                ["manager"] = m,
                ["operation"] = e.Operation,
                ["apiVersion"] = Json.Str(obj, "apiVersion"),
                ["time"] = Json.Str(same, "time") ?? Json.Time(time.GetUtcNow()),
                ["fieldsType"] = "FieldsV1",
                ["fieldsV1"] = fields,
            });
        }
        Json.Obj(obj, "metadata")["managedFields"] = arr;
    }

    public void Set(JsonObject obj, string manager, string operation, List<string[]> paths) =>
        Write(obj, new() { [manager] = (operation, paths) });
}

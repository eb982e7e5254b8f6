using System.Globalization;
using System.Text.Json.Nodes;

namespace DeployPortal.KubeEmulator.Store;

/// <summary>The ways a change is merged into an object: apply's deep merge, JSON merge patch (plain and strategic) and JSON patch.</summary>
internal static class JsonPatches
{
    /// <summary>Deep merge for apply: objects merge key by key, everything else replaces. No null deletion.</summary>
    public static void MergeInto(JsonObject target, JsonObject source)
    {
        foreach (var (k, v) in source)
        {
            if (v is JsonObject so && target[k] is JsonObject to)
            {
                MergeInto(to, so);
            }
            else
            {
                target[k] = v?.DeepClone();
            }
        }
    }

    /// <summary>RFC 7386 JSON merge patch; with <paramref name="strategic"/>, lists of objects with a <c>name</c> merge by name.</summary>
    public static void MergePatch(JsonObject target, JsonObject patch, bool strategic)
    {
        foreach (var (k, v) in patch)
        {
            if (k.StartsWith("$", StringComparison.Ordinal))
            {
                continue; // strategic directives are ignored
            }

            if (v is null)
            {
                target.Remove(k);
            }
            else if (v is JsonObject po)
            {
                if (target[k] is not JsonObject to)
                { to = new JsonObject(); target[k] = to; }
                MergePatch(to, po, strategic);
            }
            else if (strategic && v is JsonArray pa && target[k] is JsonArray ta && IsNamedList(pa) && IsNamedList(ta))
            {
                foreach (var item in pa.OfType<JsonObject>())
                {
                    var existing = ta.OfType<JsonObject>().FirstOrDefault(t => Json.Str(t, "name") == Json.Str(item, "name"));
                    if (existing is null)
                    {
                        ta.Add(item.DeepClone());
                    }
                    else
                    {
                        MergePatch(existing, item, strategic);
                    }
                }
            }
            else
            {
                target[k] = v.DeepClone();
            }
        }
    }

    private static bool IsNamedList(JsonArray a) => a.Count > 0 && a.All(x => x is JsonObject o && o["name"] is JsonValue);

    /// <summary>RFC 6902 JSON patch (add, remove, replace, test, copy, move).</summary>
    public static JsonObject JsonPatch(JsonObject target, JsonArray ops)
    {
        JsonNode root = target;
        foreach (var op in ops.OfType<JsonObject>())
        {
            var kind = Json.Str(op, "op");
            var path = Pointer(Json.Str(op, "path") ?? "");
            switch (kind)
            {
                case "add":
                    Set(path, op["value"]?.DeepClone(), insert: true);
                    break;
                case "replace":
                    Get(path);
                    Set(path, op["value"]?.DeepClone(), insert: false);
                    break;
                case "remove":
                    Del(path);
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Get(path), op["value"]))
                    {
                        throw new InvalidOperationException($"test operation failed at {Json.Str(op, "path")}");
                    }

                    break;
                case "copy":
                    Set(path, Get(Pointer(Json.Str(op, "from") ?? "")).DeepClone(), insert: true);
                    break;
                case "move":
                    var from = Pointer(Json.Str(op, "from") ?? "");
                    var val = Get(from).DeepClone();
                    Del(from);
                    Set(path, val, insert: true);
                    break;
                default:
                    throw new InvalidOperationException($"unknown JSON patch op {kind}");
            }
        }
        return root.AsObject();

        static string[] Pointer(string p) => p.Length == 0 ? [] : p[1..].Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
        JsonNode Parent(string[] path)
        {
            JsonNode? n = root;
            foreach (var s in path[..^1])
            {
                n = n is JsonObject o ? o[s] : n is JsonArray a ? a[int.Parse(s, CultureInfo.InvariantCulture)] : null;
            }

            return n ?? throw new InvalidOperationException($"path /{string.Join('/', path)} does not exist");
        }
        JsonNode Get(string[] path)
        {
            if (path.Length == 0)
            {
                return root;
            }

            var p = Parent(path);
            var n = p is JsonObject o ? o[path[^1]] : p is JsonArray a && int.TryParse(path[^1], out var i) && i < a.Count ? a[i] : null;
            return n ?? throw new InvalidOperationException($"path /{string.Join('/', path)} does not exist");
        }
        void Set(string[] path, JsonNode? value, bool insert)
        {
            var p = Parent(path);
            if (p is JsonObject o)
            {
                o[path[^1]] = value;
            }
            else if (p is JsonArray a)
            {
                if (path[^1] == "-")
                {
                    a.Add(value);
                }
                else if (insert)
                {
                    a.Insert(int.Parse(path[^1], CultureInfo.InvariantCulture), value);
                }
                else
                {
                    a[int.Parse(path[^1], CultureInfo.InvariantCulture)] = value;
                }
            }
        }
        void Del(string[] path)
        {
            var p = Parent(path);
            if (p is JsonObject o)
            {
                if (!o.Remove(path[^1]))
                {
                    throw new InvalidOperationException($"path /{string.Join('/', path)} does not exist");
                }
            }
            else if (p is JsonArray a)
            {
                a.RemoveAt(int.Parse(path[^1], CultureInfo.InvariantCulture));
            }
        }
    }
}

using System.Globalization;
using System.Text.Json.Nodes;

namespace DeployPortal.KubeEmulator.Store;

/// <summary>Small helpers over unstructured JSON objects.</summary>
internal static class Json
{
    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    public static string MicroTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTime(JsonNode? n) =>
        n is JsonValue v && DateTimeOffset.TryParse((string?)v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    public static JsonObject Obj(JsonObject parent, string key)
    {
        if (parent[key] is JsonObject o)
        {
            return o;
        }

        o = new JsonObject();
        parent[key] = o;
        return o;
    }

    public static string? Str(JsonNode? n, params string[] path)
    {
        foreach (var p in path)
        {
            n = n is JsonObject o ? o[p] : null;
        }

        return n is JsonValue v && v.TryGetValue<string>(out var s) ? s : n is JsonValue v2 ? v2.ToString() : null;
    }

    public static long? Long(JsonNode? n, params string[] path)
    {
        foreach (var p in path)
        {
            n = n is JsonObject o ? o[p] : null;
        }

        if (n is not JsonValue v)
        {
            return null;
        }

        if (v.TryGetValue<long>(out var l))
        {
            return l;
        }

        if (v.TryGetValue<int>(out var i))
        {
            return i;
        }

        if (v.TryGetValue<double>(out var d))
        {
            return (long)d;
        }

        if (v.TryGetValue<string>(out var s) && long.TryParse(s, CultureInfo.InvariantCulture, out l))
        {
            return l;
        }

        try
        { return v.GetValue<long>(); }
        catch (Exception) { return null; }
    }

    /// <summary>Leaf paths of an object: scalars, arrays (atomic) and empty objects.</summary>
    public static IEnumerable<string[]> Leaves(JsonObject o, string[]? prefix = null)
    {
        prefix ??= [];
        foreach (var (k, v) in o)
        {
            string[] path = [.. prefix, k];
            if (v is JsonObject child && child.Count > 0)
            {
                foreach (var p in Leaves(child, path))
                {
                    yield return p;
                }
            }
            else
            {
                yield return path;
            }
        }
    }

    public static JsonNode? At(JsonNode? n, IReadOnlyList<string> path)
    {
        foreach (var p in path)
        {
            n = n is JsonObject o ? o[p] : null;
        }

        return n;
    }

    public static bool Has(JsonNode? n, IReadOnlyList<string> path)
    {
        for (var i = 0; i < path.Count; i++)
        {
            if (n is not JsonObject o || !o.ContainsKey(path[i]))
            {
                return false;
            }

            n = o[path[i]];
        }
        return true;
    }

    /// <summary>
    /// Whether <paramref name="value"/> holds <paramref name="part"/>: equal scalars, objects with at least its keys, lists of the
    /// same length item by item. A configuration is contained in the live object that defaulting has added to.
    /// </summary>
    public static bool Contains(JsonNode? value, JsonNode? part) => (value, part) switch
    {
        (JsonObject v, JsonObject p) => p.All(kv => v.ContainsKey(kv.Key) && Contains(v[kv.Key], kv.Value)),
        (JsonArray v, JsonArray p) => v.Count == p.Count && v.Zip(p).All(x => Contains(x.First, x.Second)),
        _ => JsonNode.DeepEquals(value, part),
    };

    public static void Remove(JsonObject o, IReadOnlyList<string> path)
    {
        JsonNode? n = o;
        for (var i = 0; i < path.Count - 1; i++)
        {
            n = n is JsonObject x ? x[path[i]] : null;
        }

        if (n is JsonObject parent)
        {
            parent.Remove(path[^1]);
        }
    }

    /// <summary>Encodes leaf paths as a managedFields <c>fieldsV1</c> tree (<c>{"f:spec":{"f:replicas":{}}}</c>).</summary>
    public static JsonObject FieldsV1(IEnumerable<string[]> paths)
    {
        var root = new JsonObject();
        foreach (var path in paths)
        {
            var n = root;
            foreach (var seg in path)
            {
                n = Obj(n, "f:" + seg);
            }
        }
        return root;
    }

    public static List<string[]> FromFieldsV1(JsonObject? fields)
    {
        var result = new List<string[]>();
        if (fields is null)
        {
            return result;
        }

        Walk(fields, []);
        return result;

        void Walk(JsonObject o, string[] prefix)
        {
            foreach (var (k, v) in o)
            {
                if (!k.StartsWith("f:", StringComparison.Ordinal))
                {
                    continue;
                }

                string[] path = [.. prefix, k[2..]];
                if (v is JsonObject c && c.Any(p => p.Key.StartsWith("f:", StringComparison.Ordinal)))
                {
                    Walk(c, path);
                }
                else
                {
                    result.Add(path);
                }
            }
        }
    }
}

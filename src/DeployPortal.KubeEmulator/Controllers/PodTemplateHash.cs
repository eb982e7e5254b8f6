using System.Text.Json.Nodes;

namespace DeployPortal.KubeEmulator.Controllers;

/// <summary>The <c>pod-template-hash</c> label a Deployment's ReplicaSets are named and selected by.</summary>
internal static class PodTemplateHash
{
    /// <summary>
    /// The pod-template-hash of a template. A real controller hashes the typed object, so the text of the JSON must not
    /// matter: keys are sorted and nulls and empty values dropped (<c>"creationTimestamp": null</c> from <c>rollout
    /// undo</c>), so an earlier template finds its ReplicaSet again.
    /// </summary>
    public static string Of(JsonNode? template)
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
}

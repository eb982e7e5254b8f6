using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>Label selectors (<c>a=b,c!=d,e in (f,g),h notin (i),j,!k</c>) and field selectors (<c>metadata.name=x,status.phase!=Running</c>).</summary>
internal static class Selectors
{
    public static Func<StoredObject, bool>? Parse(string? labelSelector, string? fieldSelector)
    {
        var label = ParseLabels(labelSelector);
        var field = ParseFields(fieldSelector);
        if (label is null && field is null)
        {
            return null;
        }

        return o => (label is null || label(o.Labels)) && (field is null || field(o.Node));
    }

    public static Func<JsonObject?, bool>? ParseLabels(string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return null;
        }

        var reqs = new List<Func<JsonObject?, bool>>();
        foreach (var raw in SplitTopLevel(selector))
        {
            var term = raw.Trim();
            if (term.Length == 0)
            {
                continue;
            }

            int i;
            if (term.StartsWith('!'))
            {
                var key = term[1..].Trim();
                Key(key);
                reqs.Add(l => l is null || !l.ContainsKey(key));
            }
            else if ((i = term.IndexOf(" notin ", StringComparison.Ordinal)) > 0 || (i = term.IndexOf(" in ", StringComparison.Ordinal)) > 0)
            {
                var notIn = term.Contains(" notin ", StringComparison.Ordinal);
                var key = term[..i].Trim();
                Key(key);
                var set = term[(i + (notIn ? 7 : 4))..].Trim();
                if (!set.StartsWith('(') || !set.EndsWith(')'))
                {
                    throw Bad(selector);
                }

                var values = set[1..^1].Split(',', StringSplitOptions.TrimEntries).ToHashSet();
                reqs.Add(notIn
                    ? l => !(l?[key] is JsonValue v && values.Contains((string)v!))
                    : l => l?[key] is JsonValue v && values.Contains((string)v!));
            }
            else if ((i = term.IndexOf("!=", StringComparison.Ordinal)) > 0)
            {
                var key = term[..i].Trim();
                var value = term[(i + 2)..].Trim();
                Key(key);
                reqs.Add(l => !(l?[key] is JsonValue v && (string?)v == value));
            }
            else if ((i = term.IndexOf('=')) > 0)
            {
                var key = term[..i].Trim();
                var value = term[(i + 1)..].TrimStart('=').Trim();
                Key(key);
                reqs.Add(l => l?[key] is JsonValue v && (string?)v == value);
            }
            else
            {
                Key(term);
                reqs.Add(l => l is not null && l.ContainsKey(term));
            }
        }
        return l => reqs.All(r => r(l));

        void Key(string key)
        {
            if (key.Length == 0 || key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or '=' or '!'))
            {
                throw Bad(selector);
            }
        }
    }

    private static Func<JsonNode, bool>? ParseFields(string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return null;
        }

        var reqs = new List<Func<JsonNode, bool>>();
        foreach (var raw in selector.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var neg = raw.Contains("!=", StringComparison.Ordinal);
            var parts = raw.Split(neg ? "!=" : raw.Contains("==", StringComparison.Ordinal) ? "==" : "=", 2);
            if (parts.Length != 2)
            {
                throw ApiError.BadRequest($"invalid field selector: {selector}");
            }

            var path = parts[0].Trim().Split('.');
            var value = parts[1].Trim();
            reqs.Add(o =>
            {
                JsonNode? n = o;
                foreach (var p in path)
                {
                    n = n?[p];
                }

                var actual = n is JsonValue v ? v.ToString() : "";
                return neg ? actual != value : actual == value;
            });
        }
        return o => reqs.All(r => r(o));
    }

    /// <summary>Whether a Kubernetes LabelSelector object (<c>matchLabels</c>/<c>matchExpressions</c>) matches labels.</summary>
    public static bool Matches(JsonObject? selector, JsonObject? labels)
    {
        if (selector is null)
        {
            return false;
        }

        if (selector["matchLabels"] is JsonObject ml)
        {
            foreach (var (k, v) in ml)
            {
                if (labels?[k] is not JsonValue lv || (string?)lv != (string?)v)
                {
                    return false;
                }
            }
        }

        if (selector["matchExpressions"] is JsonArray exprs)
        {
            foreach (var e in exprs.OfType<JsonObject>())
            {
                var key = (string?)e["key"] ?? "";
                var op = (string?)e["operator"] ?? "";
                var values = (e["values"] as JsonArray)?.Select(v => (string?)v).ToHashSet() ?? [];
                var has = labels?[key] is JsonValue cur;
                var val = has ? (string?)labels![key] : null;
                var ok = op switch
                {
                    "In" => has && values.Contains(val),
                    "NotIn" => !has || !values.Contains(val),
                    "Exists" => has,
                    "DoesNotExist" => !has,
                    _ => false,
                };
                if (!ok)
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static IEnumerable<string> SplitTopLevel(string s)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '(')
            {
                depth++;
            }
            else if (s[i] == ')')
            {
                depth--;
            }
            else if (s[i] == ',' && depth == 0)
            { yield return s[start..i]; start = i + 1; }
        }
        yield return s[start..];
    }

    private static ApiError Bad(string selector) => ApiError.BadRequest($"unable to parse requirement: found '{selector}', expected: identifier");
}

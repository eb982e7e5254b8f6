using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using DeployPortal.KubeEmulator.Store;
using k8s.Models;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>
/// The <c>fieldValidation</c> directive of one write request (Strict, Warn or Ignore; a real server defaults to Warn)
/// and the warnings it produced, which <see cref="KubeApi"/> sends as <c>Warning</c> headers.
/// </summary>
internal sealed class FieldValidation(string directive)
{
    public static FieldValidation Parse(string? value) => value switch
    {
        null or "" or "Warn" => new("Warn"),
        "Strict" or "Ignore" => new(value),
        _ => throw ApiError.BadRequest($"fieldValidation: Unsupported value: \"{value}\": supported values: \"Ignore\", \"Strict\", \"Warn\""),
    };

    public string Directive { get; } = directive;
    public List<string> Warnings { get; } = [];

    /// <summary>
    /// Drops the fields the kind's schema does not declare, as a real server's decoder does, after failing (Strict)
    /// or warning (Warn) about them. <paramref name="strictError"/> turns the joined message into the error to throw.
    /// </summary>
    public void Check(ResourceKind kind, JsonObject obj, Func<string, ApiError> strictError)
    {
        var unknown = FieldSchema.Unknown(kind, obj);
        if (unknown.Count == 0)
        {
            return;
        }

        var messages = unknown.Select(u => $"unknown field \"{u.Path}\"").ToList();
        if (Directive == "Strict")
        {
            throw strictError("strict decoding error: " + string.Join(", ", messages));
        }

        if (Directive == "Warn")
        {
            Warnings.AddRange(messages);
        }

        foreach (var u in unknown)
        {
            u.Parent.Remove(u.Key);
        }
    }
}

/// <summary>
/// Which fields each served kind declares, read from KubernetesClient's models (generated from the Kubernetes
/// OpenAPI schema), so unknown fields are found as a real server's strict decoder finds them.
/// </summary>
internal static class FieldSchema
{
    private static readonly Dictionary<string, Type> Models = new()
    {
        ["Namespace"] = typeof(V1Namespace),
        ["Pod"] = typeof(V1Pod),
        ["Service"] = typeof(V1Service),
        ["Event"] = typeof(Corev1Event),
        ["ConfigMap"] = typeof(V1ConfigMap),
        ["Secret"] = typeof(V1Secret),
        ["Node"] = typeof(V1Node),
        ["Deployment"] = typeof(V1Deployment),
        ["ReplicaSet"] = typeof(V1ReplicaSet),
        ["Ingress"] = typeof(V1Ingress),
        ["ResourceQuota"] = typeof(V1ResourceQuota),
        ["LimitRange"] = typeof(V1LimitRange),
    };

    private static readonly ConcurrentDictionary<Type, Dictionary<string, Type>?> Properties = new();

    /// <summary>An undeclared field: its dotted path as real servers print it (<c>spec.containers[0].imagee</c>).</summary>
    internal sealed record UnknownField(string Path, JsonObject Parent, string Key);

    public static List<UnknownField> Unknown(ResourceKind kind, JsonObject obj)
    {
        var result = new List<UnknownField>();
        if (Models.TryGetValue(kind.Kind, out var model))
        {
            Walk(obj, model, "", result);
        }

        return result;
    }

    private static void Walk(JsonNode? node, Type type, string path, List<UnknownField> result)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (node is JsonArray array && ElementType(type, typeof(IList<>)) is { } item)
        {
            for (var i = 0; i < array.Count; i++)
            {
                Walk(array[i], item, $"{path}[{i}]", result);
            }

            return;
        }
        if (node is not JsonObject o)
        {
            return;
        }

        if (ElementType(type, typeof(IDictionary<,>)) is { } value)
        {
            foreach (var (k, v) in o)
            {
                Walk(v, value, Join(path, k), result);
            }

            return;
        }
        if (PropertiesOf(type) is not { } props)
        {
            return; // a scalar or free-form type (IntOrString, Quantity, object)
        }

        foreach (var (k, v) in o)
        {
            if (props.TryGetValue(k, out var propType))
            {
                Walk(v, propType, Join(path, k), result);
            }
            else
            {
                result.Add(new UnknownField(Join(path, k), o, k));
            }
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static Type? ElementType(Type type, Type generic)
    {
        if (type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        var match = type.IsGenericType && type.GetGenericTypeDefinition() == generic
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == generic);
        return match?.GetGenericArguments()[^1];
    }

    private static Dictionary<string, Type>? PropertiesOf(Type type) => Properties.GetOrAdd(type, static t =>
    {
        if (t.Namespace != typeof(V1Pod).Namespace || t.IsEnum)
        {
            return null;
        }

        var props = t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Name: p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name, p.PropertyType))
            .Where(p => p.Name is not null)
            .ToDictionary(p => p.Name!, p => p.PropertyType);
        return props.Count == 0 ? null : props;
    });
}

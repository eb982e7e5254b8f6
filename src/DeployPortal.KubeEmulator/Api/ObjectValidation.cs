using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>The API server's validation of names, selectors, replicas and containers, with its exact messages.</summary>
internal static partial class ObjectValidation
{
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123Subdomain();
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();
    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035Label();

    private const string SubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    private const string LabelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    private const string Dns1035Msg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

    public static void Validate(ResourceKind kind, JsonObject obj)
    {
        var name = Json.Str(obj, "metadata", "name") ?? "";
        var causes = new List<(string, string, string)>();
        var (ok, msg, max) = kind.Kind switch
        {
            "Namespace" => (Dns1123Label().IsMatch(name), LabelMsg, 63),
            "Service" => (Dns1035Label().IsMatch(name), Dns1035Msg, 63),
            _ => (Dns1123Subdomain().IsMatch(name), SubdomainMsg, 253),
        };
        if (name.Length == 0)
        {
            causes.Add(("metadata.name", "FieldValueRequired", "Required value: name or generateName is required"));
        }
        else if (!ok)
        {
            causes.Add(("metadata.name", "FieldValueInvalid", $"Invalid value: \"{name}\": {msg}"));
        }
        else if (name.Length > max)
        {
            causes.Add(("metadata.name", "FieldValueInvalid", $"Invalid value: \"{name}\": must be no more than {max} characters"));
        }

        if (kind == ResourceKind.Deployment || kind == ResourceKind.ReplicaSet)
        {
            var selector = obj["spec"]?["selector"] as JsonObject;
            var labels = obj["spec"]?["template"]?["metadata"]?["labels"] as JsonObject;
            if (selector is null)
            {
                causes.Add(("spec.selector", "FieldValueRequired", "Required value"));
            }
            else if (!Selectors.Matches(selector, labels))
            {
                causes.Add(("spec.template.metadata.labels", "FieldValueInvalid", $"Invalid value: {labels?.ToJsonString() ?? "null"}: `selector` does not match template `labels`"));
            }

            if ((Json.Long(obj, "spec", "replicas") ?? 0) < 0)
            {
                causes.Add(("spec.replicas", "FieldValueInvalid", $"Invalid value: {Json.Long(obj, "spec", "replicas")}: must be greater than or equal to 0"));
            }

            ValidateContainers(obj["spec"]?["template"]?["spec"], "spec.template.spec", causes);
        }
        else if (kind == ResourceKind.Pod)
        {
            ValidateContainers(obj["spec"], "spec", causes);
        }

        if (causes.Count > 0)
        {
            throw ApiError.Invalid(kind, name, causes.ToArray());
        }
    }

    private static void ValidateContainers(JsonNode? podSpec, string prefix, List<(string, string, string)> causes)
    {
        if (podSpec?["containers"] is not JsonArray cs || cs.Count == 0)
        {
            causes.Add(($"{prefix}.containers", "FieldValueRequired", "Required value"));
            return;
        }
        for (var i = 0; i < cs.Count; i++)
        {
            var cname = Json.Str(cs[i], "name");
            if (string.IsNullOrEmpty(cname))
            {
                causes.Add(($"{prefix}.containers[{i}].name", "FieldValueRequired", "Required value"));
            }
            else if (!Dns1123Label().IsMatch(cname))
            {
                causes.Add(($"{prefix}.containers[{i}].name", "FieldValueInvalid", $"Invalid value: \"{cname}\": {LabelMsg}"));
            }

            if (string.IsNullOrEmpty(Json.Str(cs[i], "image")))
            {
                causes.Add(($"{prefix}.containers[{i}].image", "FieldValueRequired", "Required value"));
            }
        }
    }
}

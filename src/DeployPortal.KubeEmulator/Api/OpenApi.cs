using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>
/// A minimal OpenAPI v3 surface: just enough for kubectl to see that PATCH supports <c>fieldValidation</c>, so it
/// validates on the server side instead of downloading full schemas. No schemas are served.
/// </summary>
internal static class OpenApi
{
    private static IEnumerable<(string Group, string Version)> GroupVersions => ResourceKind.All.Select(k => (k.Group, k.Version)).Distinct();

    private static string Key(string group, string version) => group.Length == 0 ? $"api/{version}" : $"apis/{group}/{version}";

    public static JsonObject Root()
    {
        var paths = new JsonObject();
        foreach (var (g, v) in GroupVersions)
        {
            paths[Key(g, v)] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{Key(g, v)}?hash=EMULATOR0001" };
        }

        return new JsonObject { ["paths"] = paths };
    }

    public static JsonObject? GroupVersion(string key)
    {
        var gv = GroupVersions.FirstOrDefault(x => Key(x.Group, x.Version) == key);
        if (gv == default)
        {
            return null;
        }

        var paths = new JsonObject();
        foreach (var k in ResourceKind.All.Where(k => k.Group == gv.Group && k.Version == gv.Version))
        {
            var prefix = "/" + Key(k.Group, k.Version) + (k.Namespaced ? "/namespaces/{namespace}" : "");
            var gvk = new JsonObject { ["group"] = k.Group, ["version"] = k.Version, ["kind"] = k.Kind };
            var parameters = new JsonArray();
            foreach (var p in new[] { "dryRun", "fieldManager", "fieldValidation", "force" })
            {
                parameters.Add(new JsonObject { ["name"] = p, ["in"] = "query", ["schema"] = new JsonObject { ["type"] = p == "force" ? "boolean" : "string" } });
            }

            paths[$"{prefix}/{k.Plural}/{{name}}"] = new JsonObject
            {
                ["patch"] = new JsonObject
                {
                    ["operationId"] = $"patch{k.Kind}",
                    ["x-kubernetes-action"] = "patch",
                    ["x-kubernetes-group-version-kind"] = gvk,
                    ["parameters"] = parameters,
                    ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
                },
            };
        }
        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes (emulator)", ["version"] = "v1.32.4" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = new JsonObject() },
        };
    }
}

using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>Legacy (non-aggregated) discovery documents and <c>/version</c>.</summary>
internal static class Discovery
{
    private static readonly string[] AllVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    public static JsonObject Version(EmulatorOptions options)
    {
        var v = options.KubernetesVersion.TrimStart('v').Split('.');
        return new JsonObject
        {
            ["major"] = v.ElementAtOrDefault(0) ?? "1",
            ["minor"] = v.ElementAtOrDefault(1) ?? "32",
            ["gitVersion"] = options.KubernetesVersion + "+emulator",
            ["gitCommit"] = "0000000000000000000000000000000000000000",
            ["gitTreeState"] = "clean",
            ["buildDate"] = "2025-01-01T00:00:00Z",
            ["goVersion"] = "go1.23.6",
            ["compiler"] = "gc",
            ["platform"] = "linux/amd64",
        };
    }

    public static JsonObject CoreVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    /// <summary>The create-only review resources of <c>kubectl auth can-i</c> and <c>kubectl auth whoami</c> (see <see cref="Reviews"/>).</summary>
    public static readonly (string Group, string Plural, string Kind)[] ReviewKinds =
    [
        ("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
        ("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
        ("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview"),
    ];

    private static IEnumerable<string> Groups =>
        ResourceKind.All.Where(k => k.Group.Length > 0).Select(k => k.Group).Concat(ReviewKinds.Select(r => r.Group)).Distinct();

    private static JsonObject Group(string group)
    {
        // Each group is served in one version: v1, or the version of its kinds (argoproj.io/v1alpha1).
        var version = ResourceKind.All.FirstOrDefault(k => k.Group == group)?.Version ?? "v1";
        var gv = new JsonObject { ["groupVersion"] = $"{group}/{version}", ["version"] = version };
        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = new JsonArray(gv),
            ["preferredVersion"] = gv.DeepClone(),
        };
    }

    public static JsonObject GroupList() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(Groups.Select(g => (JsonNode)Group(g)).ToArray()),
    };

    public static JsonObject? GroupDoc(string group)
    {
        if (!Groups.Contains(group))
        {
            return null;
        }

        var g = Group(group);
        g["kind"] = "APIGroup";
        g["apiVersion"] = "v1";
        return g;
    }

    public static JsonObject? ResourceList(string group, string version)
    {
        var kinds = ResourceKind.All.Where(k => k.Group == group && k.Version == version).ToList();
        var reviews = version == "v1" ? ReviewKinds.Where(r => r.Group == group).ToList() : [];
        if (kinds.Count == 0 && reviews.Count == 0)
        {
            return null;
        }

        var resources = new JsonArray();
        foreach (var (_, plural, kind) in reviews)
        {
            resources.Add(new JsonObject
            {
                ["name"] = plural,
                ["singularName"] = kind.ToLowerInvariant(),
                ["namespaced"] = false,
                ["kind"] = kind,
                ["verbs"] = new JsonArray("create"),
            });
        }

        foreach (var k in kinds)
        {
            var r = new JsonObject
            {
                ["name"] = k.Plural,
                ["singularName"] = k.Singular,
                ["namespaced"] = k.Namespaced,
                ["kind"] = k.Kind,
                ["verbs"] = new JsonArray(AllVerbs.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()),
            };
            if (k.ShortNames.Length > 0)
            {
                r["shortNames"] = new JsonArray(k.ShortNames.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray());
            }

            if (k.Categories.Length > 0)
            {
                r["categories"] = new JsonArray(k.Categories.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray());
            }

            resources.Add(r);
            foreach (var sub in k.Subresources)
            {
                var (kind, group2, version2, verbs) = sub switch
                {
                    "log" => ("Pod", "", "", new[] { "get" }),
                    "scale" => ("Scale", "autoscaling", "v1", new[] { "get", "patch", "update" }),
                    "finalize" => (k.Kind, "", "", new[] { "update" }),
                    _ => (k.Kind, "", "", new[] { "get", "patch", "update" }),
                };
                var s = new JsonObject
                {
                    ["name"] = $"{k.Plural}/{sub}",
                    ["singularName"] = "",
                    ["namespaced"] = k.Namespaced,
                    ["kind"] = kind,
                    ["verbs"] = new JsonArray(verbs.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()),
                };
                if (group2.Length > 0)
                { s["group"] = group2; s["version"] = version2; }
                resources.Add(s);
            }
        }
        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }
}

using System.Text.Json.Nodes;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>
/// Answers for <c>kubectl auth can-i</c> (SelfSubjectAccessReview, SelfSubjectRulesReview) and <c>kubectl auth whoami</c>
/// (SelfSubjectReview). The emulator checks no credentials and allows every request, so every review says so: the
/// caller is anonymous and may do anything.
/// </summary>
internal static class Reviews
{
    private const string Reason = "the emulator allows every request";

    /// <summary>The review served at <c>/apis/{group}/v1/{plural}</c>, if any.</summary>
    public static (string Group, string Plural, string Kind)? Find(string group, string plural) =>
        Discovery.ReviewKinds.Where(r => r.Group == group && r.Plural == plural).Cast<(string, string, string)?>().FirstOrDefault();

    /// <summary>The review's answer; <paramref name="request"/> is the decoded body, whose spec is echoed.</summary>
    public static JsonObject Answer((string Group, string Plural, string Kind) review, JsonObject request)
    {
        JsonObject status = review.Kind switch
        {
            "SelfSubjectAccessReview" => new JsonObject { ["allowed"] = true, ["reason"] = Reason },
            "SelfSubjectRulesReview" => new JsonObject
            {
                ["resourceRules"] = new JsonArray(new JsonObject { ["verbs"] = new JsonArray("*"), ["apiGroups"] = new JsonArray("*"), ["resources"] = new JsonArray("*") }),
                ["nonResourceRules"] = new JsonArray(new JsonObject { ["verbs"] = new JsonArray("*"), ["nonResourceURLs"] = new JsonArray("*") }),
                ["incomplete"] = false,
            },
            _ => new JsonObject
            {
                ["userInfo"] = new JsonObject { ["username"] = "system:anonymous", ["groups"] = new JsonArray("system:unauthenticated") },
            },
        };
        var answer = new JsonObject
        {
            ["kind"] = review.Kind,
            ["apiVersion"] = $"{review.Group}/v1",
            ["metadata"] = new JsonObject { ["creationTimestamp"] = null },
        };
        if (request["spec"] is JsonObject spec)
        {
            answer["spec"] = spec.DeepClone();
        }

        answer["status"] = status;
        return answer;
    }
}

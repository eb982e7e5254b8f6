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

    /// <summary>The review's answer; <paramref name="request"/> is the decoded body, whose spec is echoed.</summary>
    public static JsonObject? Answer(string group, string plural, JsonObject request)
    {
        var review = Discovery.ReviewKinds.FirstOrDefault(r => r.Group == group && r.Plural == plural);
        if (review == default) return null;
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
        if (request["spec"] is JsonObject spec) answer["spec"] = spec.DeepClone();
        answer["status"] = status;
        return answer;
    }
}

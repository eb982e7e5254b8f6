using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>An error answered as a Kubernetes <c>Status</c> object.</summary>
internal sealed class ApiError(int code, string reason, string message, JsonObject? details = null) : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;
    public JsonObject? Details { get; } = details;

    public JsonObject ToStatus() => Status(Code, Reason, Message, Details);

    public static JsonObject Status(int code, string reason, string message, JsonObject? details = null)
    {
        var o = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
        };
        if (reason.Length > 0)
        {
            o["reason"] = reason; // an error without a Kubernetes reason (StatusReasonUnknown)
        }

        if (details is not null)
        {
            o["details"] = details;
        }

        o["code"] = code;
        return o;
    }

    private static JsonObject DetailsOf(ResourceKind kind, string name) => new()
    {
        ["name"] = name,
        ["group"] = kind.Group.Length == 0 ? null : kind.Group,
        ["kind"] = kind.Plural,
    };

    public static ApiError NotFound(ResourceKind kind, string name) =>
        new(404, "NotFound", $"{kind.QualifiedPlural} \"{name}\" not found", Strip(DetailsOf(kind, name)));

    public static ApiError AlreadyExists(ResourceKind kind, string name) =>
        new(409, "AlreadyExists", $"{kind.QualifiedPlural} \"{name}\" already exists", Strip(DetailsOf(kind, name)));

    public static ApiError Conflict(ResourceKind kind, string name, string detail) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {kind.QualifiedPlural} \"{name}\": {detail}", Strip(DetailsOf(kind, name)));

    public static ApiError Invalid(ResourceKind kind, string name, params (string Field, string Reason, string Message)[] causes)
    {
        var arr = new JsonArray();
        foreach (var c in causes)
        {
            arr.Add(new JsonObject { ["reason"] = c.Reason, ["message"] = c.Message, ["field"] = c.Field });
        }

        var details = Strip(DetailsOf(kind, name));
        details["kind"] = kind.Kind;
        details["causes"] = arr;
        var msg = $"{kind.QualifiedKind} \"{name}\" is invalid: " +
                  (causes.Length == 1 ? $"{causes[0].Field}: {causes[0].Message}" : "[" + string.Join(", ", causes.Select(c => $"{c.Field}: {c.Message}")) + "]");
        return new ApiError(422, "Invalid", msg, details);
    }

    public static ApiError BadRequest(string message) => new(400, "BadRequest", message);
    public static ApiError MethodNotAllowed() => new(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    public static ApiError UnsupportedMediaType(string contentType) => new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {contentType})");
    public static ApiError PathNotFound() => new(404, "NotFound", "the server could not find the requested resource", new JsonObject());

    private static JsonObject Strip(JsonObject o)
    {
        foreach (var k in o.Where(p => p.Value is null).Select(p => p.Key).ToList())
        {
            o.Remove(k);
        }

        return o;
    }
}

using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>The steps every write shares: checking the body against the URL, stamping new objects, defaulting and validating.</summary>
internal sealed class WriteSteps(ObjectStore store, Defaulting defaulting, TimeProvider time)
{
    /// <summary>Refuses a body whose kind or namespace disagrees with the URL, or a namespace that does not exist.</summary>
    public void CheckKindAndNamespace(ResourceKind kind, string ns, JsonObject obj)
    {
        var apiVersion = Json.Str(obj, "apiVersion");
        var k = Json.Str(obj, "kind");
        if ((apiVersion is not null && apiVersion != kind.ApiVersion) || (k is not null && k != kind.Kind))
        {
            throw ApiError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({kind.ApiVersion})");
        }

        var bodyNs = Json.Str(obj, "metadata", "namespace");
        if (kind.Namespaced && !string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
        {
            throw ApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        if (kind.Namespaced && store.Get(ResourceKind.Namespace, "", ns) is null)
        {
            throw ApiError.NotFound(ResourceKind.Namespace, ns);
        }
    }

    /// <summary>Stamps a new object: its kind, namespace, uid, creation time and first generation.</summary>
    public void PrepareNew(ResourceKind kind, string ns, JsonObject obj)
    {
        obj["apiVersion"] = kind.ApiVersion;
        obj["kind"] = kind.Kind;
        var meta = Json.Obj(obj, "metadata");
        if (kind.Namespaced)
        {
            meta["namespace"] = ns;
        }
        else
        {
            meta.Remove("namespace");
        }

        meta["uid"] = Guid.NewGuid().ToString();
        meta["creationTimestamp"] = Json.Time(time.GetUtcNow());
        meta.Remove("resourceVersion");
        meta.Remove("deletionTimestamp");
        if (kind == ResourceKind.Deployment || kind == ResourceKind.ReplicaSet || kind == ResourceKind.Ingress)
        {
            meta["generation"] = 1;
        }
    }

    /// <summary>Defaults and validates an updated object, and bumps its generation when the spec changed.</summary>
    public void Finish(ResourceKind kind, JsonObject live, JsonObject next)
    {
        defaulting.Apply(kind, next, live);
        ObjectValidation.Validate(kind, next);
        if (!JsonNode.DeepEquals(live["spec"], next["spec"]) && next["metadata"]?["generation"] is not null)
        {
            next["metadata"]!["generation"] = (Json.Long(live, "metadata", "generation") ?? 1) + 1;
        }
    }

    /// <summary>Defaults and validates a new object.</summary>
    public void DefaultAndValidate(ResourceKind kind, JsonObject obj)
    {
        defaulting.Apply(kind, obj, null);
        ObjectValidation.Validate(kind, obj);
    }
}

using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>
/// Create, update, patch, server-side apply and delete with Kubernetes semantics (defaulting, validation,
/// generation, managedFields, conflicts). HTTP concerns live in <see cref="KubeApi"/>; defaulting in <see cref="Defaulting"/>,
/// validation in <see cref="ObjectValidation"/>, field ownership in <see cref="ManagedFields"/>, apply in
/// <see cref="ServerSideApply"/>, the steps all writes share in <see cref="WriteSteps"/>.
/// </summary>
internal sealed class Resources
{
    private readonly ObjectStore _store;
    private readonly ManagedFields _fields;
    private readonly WriteSteps _steps;
    private readonly ServerSideApply _apply;

    public Resources(ObjectStore store, EmulatorOptions options, TimeProvider time)
    {
        _store = store;
        _fields = new ManagedFields(time);
        _steps = new WriteSteps(store, new Defaulting(options), time);
        _apply = new ServerSideApply(store, _fields, _steps);
    }

    public ObjectStore Store => _store;

    public StoredObject Create(ResourceKind kind, string ns, JsonObject obj, string? fieldManager, bool dryRun = false, FieldValidation? validation = null)
    {
        _steps.CheckKindAndNamespace(kind, ns, obj);
        validation?.Check(kind, obj, DecodeError(kind));
        var meta = Json.Obj(obj, "metadata");
        if (meta["name"] is null)
        {
            var gen = Json.Str(meta, "generateName");
            if (string.IsNullOrEmpty(gen))
            {
                throw ApiError.Invalid(kind, "", ("metadata.name", "FieldValueRequired", "Required value: name or generateName is required"));
            }

            meta["name"] = gen + RandomSuffix(5);
        }
        var name = (string)meta["name"]!;
        _steps.PrepareNew(kind, ns, obj);
        var fields = ManagedFields.OwnedLeaves(obj).ToList();
        _fields.Set(obj, fieldManager ?? "unknown", "Update", fields);
        _steps.DefaultAndValidate(kind, obj);
        if (dryRun)
        {
            return _store.Get(kind, ns, name) is null ? new StoredObject(kind, obj) : throw ApiError.AlreadyExists(kind, name);
        }

        return _store.Create(kind, obj) ?? throw ApiError.AlreadyExists(kind, name);
    }

    /// <summary>Replaces an object (PUT). Honours an optimistic-concurrency resourceVersion.</summary>
    public StoredObject Replace(ResourceKind kind, string ns, string name, JsonObject obj, string? fieldManager, bool statusOnly, bool dryRun = false, FieldValidation? validation = null)
    {
        _steps.CheckKindAndNamespace(kind, ns, obj);
        validation?.Check(kind, obj, DecodeError(kind));
        if (Json.Str(obj, "metadata", "name") is { } n && n != name)
        {
            throw ApiError.BadRequest("the name of the object (" + n + ") does not match the name on the URL (" + name + ")");
        }

        return UpdateOrDryRun(kind, ns, name, dryRun, current =>
        {
            if (current is null)
            {
                throw ApiError.NotFound(kind, name);
            }

            var rv = Json.Str(obj, "metadata", "resourceVersion");
            if (!string.IsNullOrEmpty(rv) && rv != current.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                throw ApiError.Conflict(kind, name, "the object has been modified; please apply your changes to the latest version and try again");
            }

            var live = current.Clone();
            JsonObject next;
            if (statusOnly)
            {
                next = live;
                if (obj["status"] is JsonNode st)
                {
                    next["status"] = st.DeepClone();
                }
                else
                {
                    next.Remove("status");
                }
            }
            else
            {
                next = obj.DeepClone().AsObject();
                var meta = Json.Obj(next, "metadata");
                var liveMeta = live["metadata"]!.AsObject();
                foreach (var k in new[] { "uid", "creationTimestamp", "generation", "managedFields", "namespace", "name" })
                {
                    meta[k] = liveMeta[k]?.DeepClone();
                }

                if (live["status"] is JsonNode st)
                {
                    next["status"] = st.DeepClone();
                }
                else
                {
                    next.Remove("status");
                }

                _fields.TrackUpdate(live, next, fieldManager ?? "unknown");
            }
            _steps.Finish(kind, live, next);
            return next;
        });
    }

    /// <summary>JSON merge patch, strategic merge patch (approximated: named lists merge by name) or JSON patch.</summary>
    public StoredObject Patch(ResourceKind kind, string ns, string name, string contentType, JsonNode patch, string? fieldManager, bool statusOnly, bool dryRun = false, FieldValidation? validation = null)
    {
        return UpdateOrDryRun(kind, ns, name, dryRun, current =>
        {
            if (current is null)
            {
                throw ApiError.NotFound(kind, name);
            }

            var live = current.Clone();
            JsonObject next;
            try
            {
                if (contentType.StartsWith("application/json-patch+json", StringComparison.OrdinalIgnoreCase))
                {
                    next = JsonPatches.JsonPatch(current.Clone(), patch as JsonArray ?? throw ApiError.BadRequest("a JSON patch must be an array"));
                }
                else
                {
                    next = current.Clone();
                    JsonPatches.MergePatch(next, patch as JsonObject ?? throw ApiError.BadRequest("a merge patch must be an object"),
                        contentType.StartsWith("application/strategic-merge-patch+json", StringComparison.OrdinalIgnoreCase));
                }
            }
            catch (InvalidOperationException e) { throw new ApiError(422, "Invalid", e.Message); }
            validation?.Check(kind, next, ApiError.BadRequest);
            var rv = Json.Str(next, "metadata", "resourceVersion");
            if (!string.IsNullOrEmpty(rv) && rv != current.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                throw ApiError.Conflict(kind, name, "the object has been modified; please apply your changes to the latest version and try again");
            }

            if (statusOnly)
            {
                var s = next["status"]?.DeepClone();
                next = live.DeepClone().AsObject();
                if (s is not null)
                {
                    next["status"] = s;
                }
            }
            else
            {
                if (live["status"] is JsonNode st)
                {
                    next["status"] = st.DeepClone();
                }
                else
                {
                    next.Remove("status");
                }
                // A patch that rewrites managedFields (kubectl does, to hand client-side apply's fields to its apply
                // manager after an upgrade) sets them; any other patch records its manager's changes.
                if (JsonNode.DeepEquals(live["metadata"]?["managedFields"], next["metadata"]?["managedFields"]))
                {
                    _fields.TrackUpdate(live, next, fieldManager ?? "unknown");
                }
            }
            _steps.Finish(kind, live, next);
            return next;
        });
    }

    /// <summary>
    /// Writes the result of <paramref name="update"/>, or with <paramref name="dryRun"/> only computes it: the answer
    /// is what would have been stored, under the current resourceVersion, and nothing changes or is watched.
    /// </summary>
    private StoredObject UpdateOrDryRun(ResourceKind kind, string ns, string name, bool dryRun, Func<StoredObject?, JsonObject> update)
    {
        if (!dryRun)
        {
            return _store.Update(kind, ns, name, update)!;
        }

        JsonObject? dry = null;
        var current = _store.Update(kind, ns, name, c => { dry = update(c); return null; });
        Json.Obj(dry!, "metadata")["resourceVersion"] = current!.Node["metadata"]!["resourceVersion"]!.DeepClone();
        return new StoredObject(kind, dry!);
    }

    /// <summary>How a real server answers a create or update body it cannot decode strictly.</summary>
    private static Func<string, ApiError> DecodeError(ResourceKind kind) =>
        message => ApiError.BadRequest($"{kind.Kind} in version \"{kind.Version}\" cannot be handled as a {kind.Kind}: {message}");

    /// <summary>Server-side apply: see <see cref="ServerSideApply"/>.</summary>
    public (StoredObject Obj, bool Created) Apply(ResourceKind kind, string ns, string name, JsonObject applied, string fieldManager, bool force, bool dryRun = false) =>
        _apply.Apply(kind, ns, name, applied, fieldManager, force, dryRun);

    public StoredObject? Delete(ResourceKind kind, string ns, string name, string? preconditionUid = null, bool dryRun = false)
    {
        var current = _store.Get(kind, ns, name) ?? throw ApiError.NotFound(kind, name);
        if (preconditionUid is not null && preconditionUid != current.Uid)
        {
            throw ApiError.Conflict(kind, name, $"Precondition failed: UID in precondition: {preconditionUid}, UID in object meta: {current.Uid}");
        }

        if (dryRun)
        {
            return current;
        }

        var gone = _store.Delete(kind, ns, name) ?? throw ApiError.NotFound(kind, name);
        if (kind == ResourceKind.Namespace)
        {
            foreach (var k in ResourceKind.All.Where(k => k.Namespaced))
            {
                foreach (var o in _store.List(k, name).Items)
                {
                    _store.Delete(k, o.Namespace, o.Name);
                }
            }
        }

        return gone;
    }

    internal static string RandomSuffix(int n)
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(n, 0, (span, _) => { for (var i = 0; i < span.Length; i++) { span[i] = alphabet[Random.Shared.Next(alphabet.Length)]; } });
    }
}

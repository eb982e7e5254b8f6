using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>
/// Create, update, patch, server-side apply and delete with Kubernetes semantics (defaulting, validation,
/// generation, managedFields, conflicts). HTTP concerns live in <see cref="KubeApi"/>; defaulting in <see cref="Defaulting"/>,
/// validation in <see cref="ObjectValidation"/>, field ownership in <see cref="ManagedFields"/>.
/// </summary>
internal sealed class Resources(ObjectStore store, EmulatorOptions options, TimeProvider time)
{
    private readonly ManagedFields _fields = new(time);
    private readonly Defaulting _defaulting = new(options);

    public ObjectStore Store => store;

    public StoredObject Create(ResourceKind kind, string ns, JsonObject obj, string? fieldManager, bool dryRun = false, FieldValidation? validation = null)
    {
        CheckKindAndNamespace(kind, ns, obj);
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
        PrepareNew(kind, ns, obj);
        var fields = ManagedFields.OwnedLeaves(obj).ToList();
        _fields.Set(obj, fieldManager ?? "unknown", "Update", fields);
        _defaulting.Apply(kind, obj, null);
        ObjectValidation.Validate(kind, obj);
        if (dryRun)
        {
            return store.Get(kind, ns, name) is null ? new StoredObject(kind, obj) : throw ApiError.AlreadyExists(kind, name);
        }

        return store.Create(kind, obj) ?? throw ApiError.AlreadyExists(kind, name);
    }

    /// <summary>Replaces an object (PUT). Honours an optimistic-concurrency resourceVersion.</summary>
    public StoredObject Replace(ResourceKind kind, string ns, string name, JsonObject obj, string? fieldManager, bool statusOnly, bool dryRun = false, FieldValidation? validation = null)
    {
        CheckKindAndNamespace(kind, ns, obj);
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
            Finish(kind, live, next);
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
            Finish(kind, live, next);
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
            return store.Update(kind, ns, name, update)!;
        }

        JsonObject? dry = null;
        var current = store.Update(kind, ns, name, c => { dry = update(c); return null; });
        Json.Obj(dry!, "metadata")["resourceVersion"] = current!.Node["metadata"]!["resourceVersion"]!.DeepClone();
        return new StoredObject(kind, dry!);
    }

    /// <summary>How a real server answers a create or update body it cannot decode strictly.</summary>
    private static Func<string, ApiError> DecodeError(ResourceKind kind) =>
        message => ApiError.BadRequest($"{kind.Kind} in version \"{kind.Version}\" cannot be handled as a {kind.Kind}: {message}");

    /// <summary>
    /// Server-side apply, approximated: the applied configuration is deep-merged into the live object (objects merge,
    /// lists and scalars replace), the field manager owns the leaf fields it applied, fields it stops applying that nobody
    /// else owns are removed, and a field owned by another manager with a different value is a 409 conflict unless forced
    /// (then it changes owner). Applying the value a field already has shares it; a value the live one contains counts as
    /// the same (live list items carry what defaulting added, as a real server's keyed lists do).
    /// </summary>
    public (StoredObject Obj, bool Created) Apply(ResourceKind kind, string ns, string name, JsonObject applied, string fieldManager, bool force, bool dryRun = false)
    {
        CheckKindAndNamespace(kind, ns, applied);
        if (Json.Str(applied, "apiVersion") is null || Json.Str(applied, "kind") is null)
        {
            throw ApiError.BadRequest("invalid object type: /, Kind=");
        }

        if (Json.Str(applied, "metadata", "name") is { } n && n != name)
        {
            throw ApiError.BadRequest("the name of the object (" + n + ") does not match the name on the URL (" + name + ")");
        }
        // Apply builds a typed object from the configuration, which fails on undeclared fields whatever the
        // fieldValidation directive says (that one only governs duplicate keys, which JSON parsing here cannot see).
        if (FieldSchema.Unknown(kind, applied) is { Count: > 0 } unknown)
        {
            var errors = unknown.Select(u => $".{u.Path}: field not declared in schema").ToList();
            throw new ApiError(500, "", $"failed to create typed patch object ({ns}/{name}; {kind.ApiVersion}, Kind={kind.Kind}): " +
                (errors.Count == 1 ? errors[0] : "errors:\n  " + string.Join("\n  ", errors)));
        }
        var created = false;
        JsonObject? dry = null;
        var result = store.Update(kind, ns, name, current =>
        {
            var body = applied.DeepClone().AsObject();
            body.Remove("status");
            var appliedPaths = ManagedFields.OwnedLeaves(body).ToList();
            if (current is null)
            {
                created = true;
                Json.Obj(body, "metadata")["name"] = name;
                PrepareNew(kind, ns, body);
                _fields.Set(body, fieldManager, "Apply", appliedPaths);
                _defaulting.Apply(kind, body, null);
                ObjectValidation.Validate(kind, body);
                if (dryRun)
                { dry = body; return null; }
                return body;
            }
            var live = current.Clone();
            var managers = ManagedFields.Read(live);
            var conflicts = new List<(string Manager, string[] Path)>();
            foreach (var path in appliedPaths)
            {
                foreach (var (mgr, entry) in managers)
                {
                    if (mgr != fieldManager && entry.Paths.Any(p => p.SequenceEqual(path)) && !Json.Contains(Json.At(live, path), Json.At(body, path)))
                    {
                        conflicts.Add((mgr, path));
                    }
                }
            }
            // Fields applied with a different value change owner (when forced or allowed); equal ones become shared.
            var taken = conflicts.ToList();
            // kubectl's own manager may take over what its client-side apply set, as recorded in the last-applied
            // annotation, where the live object still holds those values (the upgrade from client-side apply).
            if (fieldManager == "kubectl" && conflicts.Count > 0 && LastApplied(live) is { } lastApplied)
            {
                conflicts.RemoveAll(c => Json.Has(lastApplied, c.Path) && Json.Contains(Json.At(live, c.Path), Json.At(lastApplied, c.Path)));
            }

            if (conflicts.Count > 0 && !force)
            {
                var causes = new JsonArray();
                foreach (var c in conflicts)
                {
                    causes.Add(new JsonObject { ["reason"] = "FieldManagerConflict", ["message"] = $"conflict with \"{c.Manager}\"", ["field"] = Field(c.Path) });
                }

                var msg = conflicts.Count == 1
                    ? $"Apply failed with 1 conflict: conflict with \"{conflicts[0].Manager}\": {Field(conflicts[0].Path)}"
                    : $"Apply failed with {conflicts.Count} conflicts: " + string.Join("\n", conflicts.Select(c => $"conflict with \"{c.Manager}\": {Field(c.Path)}"));
                throw new ApiError(409, "Conflict", msg, new JsonObject { ["causes"] = causes });
            }
            foreach (var (mgr, entry) in managers)
            {
                if (mgr != fieldManager)
                {
                    entry.Paths.RemoveAll(p => taken.Any(t => t.Manager == mgr && t.Path.SequenceEqual(p)));
                }
            }

            var next = live.DeepClone().AsObject();
            if (managers.TryGetValue(fieldManager, out var mine))
            {
                foreach (var old in mine.Paths)
                {
                    if (!appliedPaths.Any(a => a.SequenceEqual(old)) && !managers.Any(m => m.Key != fieldManager && m.Value.Paths.Any(p => p.SequenceEqual(old))))
                    {
                        Json.Remove(next, old);
                    }
                }
            }

            var appliedMeta = body["metadata"]!.AsObject();
            foreach (var k in new[] { "resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "namespace" })
            {
                appliedMeta.Remove(k);
            }

            JsonPatches.MergeInto(next, body);
            managers[fieldManager] = ("Apply", appliedPaths);
            _fields.Write(next, managers);
            Finish(kind, live, next);
            if (dryRun)
            { dry = next; return null; }
            return next;
        });
        if (dry is not null)
        {
            return (new StoredObject(kind, dry), created);
        }

        return (result!, created);
    }

    private static string Field(string[] path) => "." + string.Join('.', path);

    private static JsonObject? LastApplied(JsonObject live)
    {
        if (Json.Str(live, "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration") is not { } text)
        {
            return null;
        }

        try
        { return JsonNode.Parse(text) as JsonObject; }
        catch (System.Text.Json.JsonException) { return null; }
    }

    public StoredObject? Delete(ResourceKind kind, string ns, string name, string? preconditionUid = null, bool dryRun = false)
    {
        var current = store.Get(kind, ns, name) ?? throw ApiError.NotFound(kind, name);
        if (preconditionUid is not null && preconditionUid != current.Uid)
        {
            throw ApiError.Conflict(kind, name, $"Precondition failed: UID in precondition: {preconditionUid}, UID in object meta: {current.Uid}");
        }

        if (dryRun)
        {
            return current;
        }

        var gone = store.Delete(kind, ns, name) ?? throw ApiError.NotFound(kind, name);
        if (kind == ResourceKind.Namespace)
        {
            foreach (var k in ResourceKind.All.Where(k => k.Namespaced))
            {
                foreach (var o in store.List(k, name).Items)
                {
                    store.Delete(k, o.Namespace, o.Name);
                }
            }
        }

        return gone;
    }

    private void Finish(ResourceKind kind, JsonObject live, JsonObject next)
    {
        _defaulting.Apply(kind, next, live);
        ObjectValidation.Validate(kind, next);
        if (!JsonNode.DeepEquals(live["spec"], next["spec"]) && next["metadata"]?["generation"] is not null)
        {
            next["metadata"]!["generation"] = (Json.Long(live, "metadata", "generation") ?? 1) + 1;
        }
    }

    private void CheckKindAndNamespace(ResourceKind kind, string ns, JsonObject obj)
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

    private void PrepareNew(ResourceKind kind, string ns, JsonObject obj)
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

    internal static string RandomSuffix(int n)
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(n, 0, (span, _) => { for (var i = 0; i < span.Length; i++) { span[i] = alphabet[Random.Shared.Next(alphabet.Length)]; } });
    }
}

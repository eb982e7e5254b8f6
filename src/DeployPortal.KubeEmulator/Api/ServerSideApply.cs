using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>Server-side apply for <see cref="Resources"/>: merging an applied configuration and tracking who owns which field.</summary>
internal sealed class ServerSideApply(ObjectStore store, ManagedFields fields, WriteSteps steps)
{
    /// <summary>
    /// Server-side apply, approximated: the applied configuration is deep-merged into the live object (objects merge,
    /// lists and scalars replace), the field manager owns the leaf fields it applied, fields it stops applying that nobody
    /// else owns are removed, and a field owned by another manager with a different value is a 409 conflict unless forced
    /// (then it changes owner). Applying the value a field already has shares it; a value the live one contains counts as
    /// the same (live list items carry what defaulting added, as a real server's keyed lists do).
    /// </summary>
    public (StoredObject Obj, bool Created) Apply(ResourceKind kind, string ns, string name, JsonObject applied, string fieldManager, bool force, bool dryRun = false)
    {
        steps.CheckKindAndNamespace(kind, ns, applied);
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
                steps.PrepareNew(kind, ns, body);
                fields.Set(body, fieldManager, "Apply", appliedPaths);
                steps.DefaultAndValidate(kind, body);
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
            fields.Write(next, managers);
            steps.Finish(kind, live, next);
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
}

using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>
/// Create, update, patch, server-side apply and delete with Kubernetes semantics (defaulting, validation,
/// generation, managedFields, conflicts). HTTP concerns live in <see cref="KubeApi"/>.
/// </summary>
internal sealed partial class Resources(ObjectStore store, EmulatorOptions options, TimeProvider time)
{
    private static readonly string[][] UnownedPaths =
    [
        ["apiVersion"], ["kind"], ["metadata", "name"], ["metadata", "namespace"], ["metadata", "uid"],
        ["metadata", "resourceVersion"], ["metadata", "generation"], ["metadata", "creationTimestamp"],
        ["metadata", "managedFields"], ["metadata", "deletionTimestamp"], ["metadata", "selfLink"],
    ];

    private int _nextClusterIp = 10;

    public ObjectStore Store => store;

    public StoredObject Create(ResourceKind kind, string ns, JsonObject obj, string? fieldManager, bool dryRun = false, FieldValidation? validation = null)
    {
        CheckKindAndNamespace(kind, ns, obj);
        validation?.Check(kind, obj, DecodeError(kind));
        var meta = Json.Obj(obj, "metadata");
        if (meta["name"] is null)
        {
            var gen = Json.Str(meta, "generateName");
            if (string.IsNullOrEmpty(gen)) throw ApiError.Invalid(kind, "", ("metadata.name", "FieldValueRequired", "Required value: name or generateName is required"));
            meta["name"] = gen + RandomSuffix(5);
        }
        var name = (string)meta["name"]!;
        PrepareNew(kind, ns, obj);
        var fields = OwnedLeaves(obj).ToList();
        SetManager(obj, fieldManager ?? "unknown", "Update", fields);
        Default(kind, obj, null);
        Validate(kind, obj);
        if (dryRun) return store.Get(kind, ns, name) is null ? new StoredObject(kind, obj) : throw ApiError.AlreadyExists(kind, name);
        return store.Create(kind, obj) ?? throw ApiError.AlreadyExists(kind, name);
    }

    /// <summary>Replaces an object (PUT). Honours an optimistic-concurrency resourceVersion.</summary>
    public StoredObject Replace(ResourceKind kind, string ns, string name, JsonObject obj, string? fieldManager, bool statusOnly, bool dryRun = false, FieldValidation? validation = null)
    {
        CheckKindAndNamespace(kind, ns, obj);
        validation?.Check(kind, obj, DecodeError(kind));
        if (Json.Str(obj, "metadata", "name") is { } n && n != name)
            throw ApiError.BadRequest("the name of the object (" + n + ") does not match the name on the URL (" + name + ")");
        return UpdateOrDryRun(kind, ns, name, dryRun, current =>
        {
            if (current is null) throw ApiError.NotFound(kind, name);
            var rv = Json.Str(obj, "metadata", "resourceVersion");
            if (!string.IsNullOrEmpty(rv) && rv != current.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
                throw ApiError.Conflict(kind, name, "the object has been modified; please apply your changes to the latest version and try again");
            var live = current.Clone();
            JsonObject next;
            if (statusOnly)
            {
                next = live;
                if (obj["status"] is JsonNode st) next["status"] = st.DeepClone(); else next.Remove("status");
            }
            else
            {
                next = obj.DeepClone().AsObject();
                var meta = Json.Obj(next, "metadata");
                var liveMeta = live["metadata"]!.AsObject();
                foreach (var k in new[] { "uid", "creationTimestamp", "generation", "managedFields", "namespace", "name" })
                    meta[k] = liveMeta[k]?.DeepClone();
                if (live["status"] is JsonNode st) next["status"] = st.DeepClone(); else next.Remove("status");
                TrackUpdate(live, next, fieldManager ?? "unknown");
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
            if (current is null) throw ApiError.NotFound(kind, name);
            var live = current.Clone();
            JsonObject next;
            try
            {
                if (contentType.StartsWith("application/json-patch+json", StringComparison.OrdinalIgnoreCase))
                    next = Json.JsonPatch(current.Clone(), patch as JsonArray ?? throw ApiError.BadRequest("a JSON patch must be an array"));
                else
                {
                    next = current.Clone();
                    Json.MergePatch(next, patch as JsonObject ?? throw ApiError.BadRequest("a merge patch must be an object"),
                        contentType.StartsWith("application/strategic-merge-patch+json", StringComparison.OrdinalIgnoreCase));
                }
            }
            catch (InvalidOperationException e) { throw new ApiError(422, "Invalid", e.Message); }
            validation?.Check(kind, next, ApiError.BadRequest);
            var rv = Json.Str(next, "metadata", "resourceVersion");
            if (!string.IsNullOrEmpty(rv) && rv != current.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
                throw ApiError.Conflict(kind, name, "the object has been modified; please apply your changes to the latest version and try again");
            if (statusOnly)
            {
                var s = next["status"]?.DeepClone();
                next = live.DeepClone().AsObject();
                if (s is not null) next["status"] = s;
            }
            else
            {
                if (live["status"] is JsonNode st) next["status"] = st.DeepClone(); else next.Remove("status");
                // A patch that rewrites managedFields (kubectl does, to hand client-side apply's fields to its apply
                // manager after an upgrade) sets them; any other patch records its manager's changes.
                if (JsonNode.DeepEquals(live["metadata"]?["managedFields"], next["metadata"]?["managedFields"]))
                    TrackUpdate(live, next, fieldManager ?? "unknown");
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
        if (!dryRun) return store.Update(kind, ns, name, update)!;
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
            throw ApiError.BadRequest("invalid object type: /, Kind=");
        if (Json.Str(applied, "metadata", "name") is { } n && n != name)
            throw ApiError.BadRequest("the name of the object (" + n + ") does not match the name on the URL (" + name + ")");
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
            var appliedPaths = OwnedLeaves(body).ToList();
            if (current is null)
            {
                created = true;
                Json.Obj(body, "metadata")["name"] = name;
                PrepareNew(kind, ns, body);
                SetManager(body, fieldManager, "Apply", appliedPaths);
                Default(kind, body, null);
                Validate(kind, body);
                if (dryRun) { dry = body; return null; }
                return body;
            }
            var live = current.Clone();
            var managers = ReadManagers(live);
            var conflicts = new List<(string Manager, string[] Path)>();
            foreach (var path in appliedPaths)
                foreach (var (mgr, entry) in managers)
                    if (mgr != fieldManager && entry.Paths.Any(p => p.SequenceEqual(path)) && !Json.Contains(Json.At(live, path), Json.At(body, path)))
                        conflicts.Add((mgr, path));
            // Fields applied with a different value change owner (when forced or allowed); equal ones become shared.
            var taken = conflicts.ToList();
            // kubectl's own manager may take over what its client-side apply set, as recorded in the last-applied
            // annotation, where the live object still holds those values (the upgrade from client-side apply).
            if (fieldManager == "kubectl" && conflicts.Count > 0 && LastApplied(live) is { } lastApplied)
                conflicts.RemoveAll(c => Json.Has(lastApplied, c.Path) && Json.Contains(Json.At(live, c.Path), Json.At(lastApplied, c.Path)));
            if (conflicts.Count > 0 && !force)
            {
                var causes = new JsonArray();
                foreach (var c in conflicts) causes.Add(new JsonObject { ["reason"] = "FieldManagerConflict", ["message"] = $"conflict with \"{c.Manager}\"", ["field"] = Field(c.Path) });
                var msg = conflicts.Count == 1
                    ? $"Apply failed with 1 conflict: conflict with \"{conflicts[0].Manager}\": {Field(conflicts[0].Path)}"
                    : $"Apply failed with {conflicts.Count} conflicts: " + string.Join("\n", conflicts.Select(c => $"conflict with \"{c.Manager}\": {Field(c.Path)}"));
                throw new ApiError(409, "Conflict", msg, new JsonObject { ["causes"] = causes });
            }
            foreach (var (mgr, entry) in managers)
                if (mgr != fieldManager) entry.Paths.RemoveAll(p => taken.Any(t => t.Manager == mgr && t.Path.SequenceEqual(p)));
            var next = live.DeepClone().AsObject();
            if (managers.TryGetValue(fieldManager, out var mine))
                foreach (var old in mine.Paths)
                    if (!appliedPaths.Any(a => a.SequenceEqual(old)) && !managers.Any(m => m.Key != fieldManager && m.Value.Paths.Any(p => p.SequenceEqual(old))))
                        Json.Remove(next, old);
            var appliedMeta = body["metadata"]!.AsObject();
            foreach (var k in new[] { "resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "namespace" }) appliedMeta.Remove(k);
            Json.MergeInto(next, body);
            managers[fieldManager] = ("Apply", appliedPaths);
            WriteManagers(next, managers);
            Finish(kind, live, next);
            if (dryRun) { dry = next; return null; }
            return next;
        });
        if (dry is not null) return (new StoredObject(kind, dry), created);
        return (result!, created);
    }

    private static string Field(string[] path) => "." + string.Join('.', path);

    private static JsonObject? LastApplied(JsonObject live)
    {
        if (Json.Str(live, "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration") is not { } text) return null;
        try { return JsonNode.Parse(text) as JsonObject; }
        catch (System.Text.Json.JsonException) { return null; }
    }

    public StoredObject? Delete(ResourceKind kind, string ns, string name, string? preconditionUid = null, bool dryRun = false)
    {
        var current = store.Get(kind, ns, name) ?? throw ApiError.NotFound(kind, name);
        if (preconditionUid is not null && preconditionUid != current.Uid)
            throw ApiError.Conflict(kind, name, $"Precondition failed: UID in precondition: {preconditionUid}, UID in object meta: {current.Uid}");
        if (dryRun) return current;
        var gone = store.Delete(kind, ns, name) ?? throw ApiError.NotFound(kind, name);
        if (kind == ResourceKind.Namespace)
            foreach (var k in ResourceKind.All.Where(k => k.Namespaced))
                foreach (var o in store.List(k, name).Items) store.Delete(k, o.Namespace, o.Name);
        return gone;
    }

    private void Finish(ResourceKind kind, JsonObject live, JsonObject next)
    {
        Default(kind, next, live);
        Validate(kind, next);
        if (!JsonNode.DeepEquals(live["spec"], next["spec"]) && next["metadata"]?["generation"] is not null)
            next["metadata"]!["generation"] = (Json.Long(live, "metadata", "generation") ?? 1) + 1;
    }

    private void TrackUpdate(JsonObject live, JsonObject next, string manager)
    {
        var changed = OwnedLeaves(next).Where(p => !JsonNode.DeepEquals(Json.At(live, p), Json.At(next, p))).ToList();
        if (changed.Count == 0) return;
        var managers = ReadManagers(live);
        foreach (var (mgr, entry) in managers) entry.Paths.RemoveAll(p => changed.Any(c => c.SequenceEqual(p)));
        if (managers.TryGetValue(manager, out var mine) && mine.Operation == "Update")
            mine.Paths.AddRange(changed.Where(c => !mine.Paths.Any(p => p.SequenceEqual(c))));
        else managers[manager] = ("Update", changed);
        WriteManagers(next, managers);
    }

    private static IEnumerable<string[]> OwnedLeaves(JsonObject o) =>
        Json.Leaves(o).Where(p => p[0] != "status" && !UnownedPaths.Any(u => u.SequenceEqual(p)));

    private Dictionary<string, (string Operation, List<string[]> Paths)> ReadManagers(JsonObject obj)
    {
        var result = new Dictionary<string, (string, List<string[]>)>();
        if (obj["metadata"]?["managedFields"] is JsonArray arr)
            foreach (var e in arr.OfType<JsonObject>())
                if (Json.Str(e, "manager") is { } m && Json.Str(e, "subresource") is null)
                    result[m] = (Json.Str(e, "operation") ?? "Update", Json.FromFieldsV1(e["fieldsV1"] as JsonObject));
        return result;
    }

    private void WriteManagers(JsonObject obj, Dictionary<string, (string Operation, List<string[]> Paths)> managers)
    {
        var previous = (obj["metadata"]?["managedFields"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var arr = new JsonArray();
        foreach (var (m, e) in managers)
        {
            if (e.Paths.Count == 0) continue;
            var fields = Json.FieldsV1(e.Paths);
            var same = previous.FirstOrDefault(p => Json.Str(p, "manager") == m && Json.Str(p, "operation") == e.Operation && JsonNode.DeepEquals(p["fieldsV1"], fields));
            arr.Add(new JsonObject
            {
                ["manager"] = m,
                ["operation"] = e.Operation,
                ["apiVersion"] = Json.Str(obj, "apiVersion"),
                ["time"] = Json.Str(same, "time") ?? Json.Time(time.GetUtcNow()),
                ["fieldsType"] = "FieldsV1",
                ["fieldsV1"] = fields,
            });
        }
        Json.Obj(obj, "metadata")["managedFields"] = arr;
    }

    private void SetManager(JsonObject obj, string manager, string operation, List<string[]> paths) =>
        WriteManagers(obj, new() { [manager] = (operation, paths) });

    private void CheckKindAndNamespace(ResourceKind kind, string ns, JsonObject obj)
    {
        var apiVersion = Json.Str(obj, "apiVersion");
        var k = Json.Str(obj, "kind");
        if ((apiVersion is not null && apiVersion != kind.ApiVersion) || (k is not null && k != kind.Kind))
            throw ApiError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({kind.ApiVersion})");
        var bodyNs = Json.Str(obj, "metadata", "namespace");
        if (kind.Namespaced && !string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
            throw ApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        if (kind.Namespaced && store.Get(ResourceKind.Namespace, "", ns) is null)
            throw ApiError.NotFound(ResourceKind.Namespace, ns);
    }

    private void PrepareNew(ResourceKind kind, string ns, JsonObject obj)
    {
        obj["apiVersion"] = kind.ApiVersion;
        obj["kind"] = kind.Kind;
        var meta = Json.Obj(obj, "metadata");
        if (kind.Namespaced) meta["namespace"] = ns; else meta.Remove("namespace");
        meta["uid"] = Guid.NewGuid().ToString();
        meta["creationTimestamp"] = Json.Time(time.GetUtcNow());
        meta.Remove("resourceVersion");
        meta.Remove("deletionTimestamp");
        if (kind == ResourceKind.Deployment || kind == ResourceKind.ReplicaSet || kind == ResourceKind.Ingress) meta["generation"] = 1;
    }

    internal static string RandomSuffix(int n)
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(n, 0, (span, _) => { for (var i = 0; i < span.Length; i++) span[i] = alphabet[Random.Shared.Next(alphabet.Length)]; });
    }

    // ---------------------------------------------------------------- defaulting

    private void Default(ResourceKind kind, JsonObject obj, JsonObject? live)
    {
        var spec = obj["spec"] as JsonObject;
        switch (kind.Kind)
        {
            case "Namespace":
                Json.Obj(Json.Obj(obj, "metadata"), "labels")["kubernetes.io/metadata.name"] = Json.Str(obj, "metadata", "name");
                Json.Obj(obj, "spec")["finalizers"] ??= new JsonArray("kubernetes");
                Json.Obj(obj, "status")["phase"] ??= "Active";
                break;
            case "Deployment":
                spec = Json.Obj(obj, "spec");
                spec["replicas"] ??= 1;
                spec["revisionHistoryLimit"] ??= 10;
                spec["progressDeadlineSeconds"] ??= options.DefaultProgressDeadlineSeconds;
                var strategy = Json.Obj(spec, "strategy");
                strategy["type"] ??= "RollingUpdate";
                if (Json.Str(strategy, "type") == "RollingUpdate")
                {
                    var ru = Json.Obj(strategy, "rollingUpdate");
                    ru["maxUnavailable"] ??= "25%";
                    ru["maxSurge"] ??= "25%";
                }
                DefaultPodSpec(Json.Obj(Json.Obj(spec, "template"), "spec"));
                obj["status"] ??= new JsonObject();
                break;
            case "ReplicaSet":
                spec = Json.Obj(obj, "spec");
                spec["replicas"] ??= 1;
                DefaultPodSpec(Json.Obj(Json.Obj(spec, "template"), "spec"));
                break;
            case "Pod":
                DefaultPodSpec(Json.Obj(obj, "spec"));
                var status = Json.Obj(obj, "status");
                status["phase"] ??= "Pending";
                status["qosClass"] ??= "BestEffort";
                break;
            case "Service":
                spec = Json.Obj(obj, "spec");
                spec["type"] ??= "ClusterIP";
                spec["sessionAffinity"] ??= "None";
                if (Json.Str(spec, "clusterIP") is null && Json.Str(live?["spec"], "clusterIP") is { } ip) spec["clusterIP"] = ip;
                if (Json.Str(spec, "clusterIP") is null)
                    spec["clusterIP"] = $"10.96.{(Interlocked.Increment(ref _nextClusterIp) / 250) % 250}.{_nextClusterIp % 250 + 2}";
                spec["clusterIPs"] ??= new JsonArray(Json.Str(spec, "clusterIP"));
                spec["ipFamilies"] ??= new JsonArray("IPv4");
                spec["ipFamilyPolicy"] ??= "SingleStack";
                spec["internalTrafficPolicy"] ??= "Cluster";
                if (spec["ports"] is JsonArray ports)
                    foreach (var p in ports.OfType<JsonObject>())
                    {
                        p["protocol"] ??= "TCP";
                        p["targetPort"] ??= p["port"]?.DeepClone();
                    }
                Json.Obj(Json.Obj(obj, "status"), "loadBalancer");
                break;
            case "Secret":
                obj["type"] ??= "Opaque";
                break;
            case "Ingress":
                var lb = Json.Obj(Json.Obj(obj, "status"), "loadBalancer");
                lb["ingress"] ??= new JsonArray(new JsonObject { ["ip"] = "127.0.0.1" });
                break;
        }
    }

    private static void DefaultPodSpec(JsonObject podSpec)
    {
        podSpec["restartPolicy"] ??= "Always";
        podSpec["terminationGracePeriodSeconds"] ??= 30;
        podSpec["dnsPolicy"] ??= "ClusterFirst";
        podSpec["schedulerName"] ??= "default-scheduler";
        podSpec["securityContext"] ??= new JsonObject();
        if (podSpec["containers"] is JsonArray cs)
            foreach (var c in cs.OfType<JsonObject>())
            {
                var image = Json.Str(c, "image") ?? "";
                var tag = image.Contains(':', StringComparison.Ordinal) ? image[(image.LastIndexOf(':') + 1)..] : "";
                c["imagePullPolicy"] ??= tag is "" or "latest" || tag.Contains('/', StringComparison.Ordinal) ? "Always" : "IfNotPresent";
                c["terminationMessagePath"] ??= "/dev/termination-log";
                c["terminationMessagePolicy"] ??= "File";
                c["resources"] ??= new JsonObject();
                if (c["ports"] is JsonArray ps)
                    foreach (var p in ps.OfType<JsonObject>()) p["protocol"] ??= "TCP";
            }
    }

    // ---------------------------------------------------------------- validation

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123Subdomain();
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();
    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035Label();

    private const string SubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    private const string LabelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    private const string Dns1035Msg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

    private static void Validate(ResourceKind kind, JsonObject obj)
    {
        var name = Json.Str(obj, "metadata", "name") ?? "";
        var causes = new List<(string, string, string)>();
        var (ok, msg, max) = kind.Kind switch
        {
            "Namespace" => (Dns1123Label().IsMatch(name), LabelMsg, 63),
            "Service" => (Dns1035Label().IsMatch(name), Dns1035Msg, 63),
            _ => (Dns1123Subdomain().IsMatch(name), SubdomainMsg, 253),
        };
        if (name.Length == 0) causes.Add(("metadata.name", "FieldValueRequired", "Required value: name or generateName is required"));
        else if (!ok) causes.Add(("metadata.name", "FieldValueInvalid", $"Invalid value: \"{name}\": {msg}"));
        else if (name.Length > max) causes.Add(("metadata.name", "FieldValueInvalid", $"Invalid value: \"{name}\": must be no more than {max} characters"));

        if (kind == ResourceKind.Deployment || kind == ResourceKind.ReplicaSet)
        {
            var selector = obj["spec"]?["selector"] as JsonObject;
            var labels = obj["spec"]?["template"]?["metadata"]?["labels"] as JsonObject;
            if (selector is null) causes.Add(("spec.selector", "FieldValueRequired", "Required value"));
            else if (!Selectors.Matches(selector, labels))
                causes.Add(("spec.template.metadata.labels", "FieldValueInvalid", $"Invalid value: {labels?.ToJsonString() ?? "null"}: `selector` does not match template `labels`"));
            if ((Json.Long(obj, "spec", "replicas") ?? 0) < 0)
                causes.Add(("spec.replicas", "FieldValueInvalid", $"Invalid value: {Json.Long(obj, "spec", "replicas")}: must be greater than or equal to 0"));
            ValidateContainers(obj["spec"]?["template"]?["spec"], "spec.template.spec", causes);
        }
        else if (kind == ResourceKind.Pod) ValidateContainers(obj["spec"], "spec", causes);
        if (causes.Count > 0) throw ApiError.Invalid(kind, name, causes.ToArray());
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
            if (string.IsNullOrEmpty(cname)) causes.Add(($"{prefix}.containers[{i}].name", "FieldValueRequired", "Required value"));
            else if (!Dns1123Label().IsMatch(cname)) causes.Add(($"{prefix}.containers[{i}].name", "FieldValueInvalid", $"Invalid value: \"{cname}\": {LabelMsg}"));
            if (string.IsNullOrEmpty(Json.Str(cs[i], "image"))) causes.Add(($"{prefix}.containers[{i}].image", "FieldValueRequired", "Required value"));
        }
    }
}

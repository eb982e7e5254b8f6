using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using DeployPortal.Web.Cluster;
using k8s;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.GitOps;

/// <summary>What Argo CD says about one Application: the revision it synced, sync and health status, and its messages.</summary>
internal sealed record ArgoStatus(string? Revision, string? Sync, string? Health, string? HealthMessage, string? OperationPhase, string? OperationMessage,
    string? OperationRevision, IReadOnlyList<string> Conditions)
{
    public static readonly ArgoStatus None = new(null, null, null, null, null, null, null, []);

    /// <summary>Argo CD's own words on what is wrong: the conditions, the sync operation's message, the health message.</summary>
    public string Problems => string.Join("; ", Conditions.Append(OperationPhase is "Failed" or "Error" ? OperationMessage : null)
        .Append(Health is "Degraded" or "Missing" ? HealthMessage : null).Where(m => !string.IsNullOrWhiteSpace(m)).Distinct());

    public override string ToString() => Sync is null ? "no status yet" : $"{Sync} at {Short(Revision)}, {Health ?? "no health"}" + (Problems.Length > 0 ? $": {Problems}" : "");

    public static string Short(string? sha) => sha is { Length: > 7 } ? sha[..7] : sha ?? "?";

    public static ArgoStatus From(JsonElement app)
    {
        if (!app.TryGetProperty("status", out var s) || s.ValueKind != JsonValueKind.Object)
        {
            return None;
        }

        var conditions = s.TryGetProperty("conditions", out var c) && c.ValueKind == JsonValueKind.Array
            ? c.EnumerateArray().Select(x => Str(x, "type") is { } type ? $"{type}: {Str(x, "message")}" : Str(x, "message")).OfType<string>().ToList()
            : [];
        return new ArgoStatus(Str(s, "sync", "revision"), Str(s, "sync", "status"), Str(s, "health", "status"), Str(s, "health", "message"),
            Str(s, "operationState", "phase"), Str(s, "operationState", "message"), Str(s, "operationState", "syncResult", "revision"), conditions);
    }

    private static string? Str(JsonElement e, params string[] path)
    {
        foreach (var p in path)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(p, out e))
            {
                return null;
            }
        }

        return e.ValueKind == JsonValueKind.String ? e.GetString() : null;
    }
}

/// <summary>
/// Argo CD's <c>Application</c> objects (argoproj.io/v1alpha1) through KubernetesClient's custom-object API: created for
/// an app in a slot when missing (as an ApplicationSet would), and followed with a watch. A Flux <c>Kustomization</c>
/// would be a second implementation of the same two calls.
/// </summary>
internal sealed class ArgoApplications(IKubernetes client, ClusterGateway cluster, ConfigRepository repository, IOptions<GitOpsOptions> options,
    IOptions<ClusterOptions> clusterOptions, ILogger<ArgoApplications> logger)
{
    public const string Group = "argoproj.io";
    public const string Version = "v1alpha1";
    public const string Plural = "applications";

    private readonly ClusterRetries _retries = new(clusterOptions.Value, logger);

    private GitOpsOptions Settings => options.Value;

    public string NameFor(string slot, string app) => Settings.ApplicationName.Replace("{slot}", slot).Replace("{app}", app);

    /// <summary>Creates the Application of an app in a slot unless it exists (or the settings leave that to an ApplicationSet).</summary>
    public async Task EnsureAsync(string slot, string app, string ns, CancellationToken ct)
    {
        if (!Settings.CreateApplications)
        {
            return;
        }

        await cluster.EnsureNamespaceAsync(Settings.ArgoNamespace, ct);
        var name = NameFor(slot, app);
        var body = new Dictionary<string, object>
        {
            ["apiVersion"] = $"{Group}/{Version}",
            ["kind"] = "Application",
            ["metadata"] = new Dictionary<string, object>
            {
                ["name"] = name,
                ["namespace"] = Settings.ArgoNamespace,
                ["labels"] = new Dictionary<string, string> { [ManifestBuilder.ManagedByLabel] = ManifestBuilder.FieldManager, ["deployportal.io/slot"] = slot },
            },
            ["spec"] = new Dictionary<string, object>
            {
                ["project"] = "default",
                ["source"] = new Dictionary<string, object>
                {
                    ["repoURL"] = Settings.ArgoRepoUrl is { Length: > 0 } url ? url : repository.Remote,
                    ["targetRevision"] = Settings.Branch,
                    ["path"] = repository.PathFor(slot, app),
                },
                ["destination"] = new Dictionary<string, object> { ["server"] = "https://kubernetes.default.svc", ["namespace"] = ns },
                ["syncPolicy"] = new Dictionary<string, object>
                {
                    ["automated"] = new Dictionary<string, object> { ["prune"] = true, ["selfHeal"] = true },
                    ["syncOptions"] = new[] { "CreateNamespace=true" },
                },
            },
        };
        try
        {
            await _retries.CallAsync(t => client.CustomObjects.CreateNamespacedCustomObjectAsync(body, Group, Version, Settings.ArgoNamespace, Plural,
                fieldManager: ManifestBuilder.FieldManager, cancellationToken: t), ct);
            logger.LogInformation("Created the Argo CD Application {Namespace}/{Name}", Settings.ArgoNamespace, name);
        }
        catch (ClusterRejectedException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            // It exists already: Argo CD follows the branch, so the new commit reaches it without a change here.
        }
    }

    /// <summary>
    /// The Application's status now and after every change, until <paramref name="ct"/> is cancelled: a read, then a watch
    /// from its resourceVersion, read again whenever the server ends the watch. A missing Application reads as no status.
    /// </summary>
    public async IAsyncEnumerable<ArgoStatus> WatchAsync(string name, [EnumeratorCancellation] CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            JsonElement? current;
            try
            {
                current = await _retries.CallAsync(t => client.CustomObjects.GetNamespacedCustomObjectAsync<JsonElement>(Group, Version, Settings.ArgoNamespace, Plural, name, cancellationToken: t), ct);
            }
            catch (ClusterRejectedException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                current = null;
            }

            yield return current is { } found ? ArgoStatus.From(found) : ArgoStatus.None;
            var version = current?.GetProperty("metadata").GetProperty("resourceVersion").GetString();
            var watch = client.CustomObjects.WatchListNamespacedCustomObjectAsync(Group, Version, Settings.ArgoNamespace, Plural,
                fieldSelector: $"metadata.name={name}", resourceVersion: version, timeoutSeconds: 60,
                onError: e => logger.LogInformation("Application watch for {Name} ended: {Error}", name, e.Message), cancellationToken: ct);
            await using var events = watch.GetAsyncEnumerator(ct);
            while (true)
            {
                ArgoStatus? next;
                try
                {
                    next = await events.MoveNextAsync() ? (events.Current.Item1 == WatchEventType.Deleted ? ArgoStatus.None : ArgoStatus.From(AsJson(events.Current.Item2))) : null;
                }
                catch (Exception e) when (ClusterRetries.IsDroppedStream(e) && !ct.IsCancellationRequested)
                {
                    next = null;
                }

                if (next is null)
                {
                    break;
                }

                yield return next;
            }
        }
    }

    private static JsonElement AsJson(object item) => item is JsonElement e ? e : JsonSerializer.SerializeToElement(item);
}

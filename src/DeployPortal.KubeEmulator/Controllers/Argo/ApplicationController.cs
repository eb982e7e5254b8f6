using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Api;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Controllers.Argo;

/// <summary>
/// A small Argo CD application controller for the subset a GitOps portal uses: for each <c>Application</c>
/// (argoproj.io/v1alpha1) whose <c>spec.source.repoURL</c> is a local path or file:// URL, it fetches the repository at
/// <c>spec.source.targetRevision</c>, server-side applies the manifests under <c>spec.source.path</c> (automated sync),
/// prunes what it applied before that is gone, and writes <c>status.sync</c>, <c>status.health</c>,
/// <c>status.operationState</c> and <c>status.conditions</c> as Argo CD does. Objects it applies carry the tracking label
/// <c>app.kubernetes.io/instance=&lt;application&gt;</c>; deleting an Application prunes its objects (the
/// resources finalizer). It refreshes every <see cref="EmulatorOptions.ApplicationRefreshInterval"/> and when an
/// Application changes; health follows the Deployments' status as it changes.
/// </summary>
internal sealed class ApplicationController : IAsyncDisposable
{
    public const string FieldManager = "argocd-controller";
    public const string InstanceLabel = "app.kubernetes.io/instance";

    private static readonly ResourceKind[] Prunable = [ResourceKind.Ingress, ResourceKind.Service, ResourceKind.Deployment, ResourceKind.ConfigMap, ResourceKind.Secret];

    private readonly ObjectStore _store;
    private readonly Resources _resources;
    private readonly EmulatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly GitSource _git = new();
    private readonly ManifestReader _reader = new();
    private readonly Dictionary<(string Ns, string Name), string> _synced = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile bool _refreshDue = true;

    /// <summary>Set while this controller writes an Application's status: its own write is not a reason to refresh.</summary>
    [ThreadStatic]
    private static bool t_writingStatus;

    public ApplicationController(ObjectStore store, Resources resources, EmulatorOptions options, TimeProvider time, ILogger logger)
    {
        (_store, _resources, _options, _time, _logger) = (store, resources, options, time, logger);
        store.Changed += e =>
        {
            if (e.Object.Kind == ResourceKind.Application && !t_writingStatus)
            {
                _refreshDue = true;
            }
            else if (e.Object.Kind != ResourceKind.Deployment)
            {
                return;
            }

            if (_wake.CurrentCount == 0)
            { try { _wake.Release(); } catch (SemaphoreFullException) { } }
        };
        _loop = Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        var lastRefresh = DateTimeOffset.MinValue;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (_refreshDue || _time.GetUtcNow() - lastRefresh >= _options.ApplicationRefreshInterval)
                {
                    _refreshDue = false;
                    lastRefresh = _time.GetUtcNow();
                    await RefreshAllAsync(_stop.Token).ConfigureAwait(false);
                }
                else
                {
                    UpdateHealthAll();
                }

                await _wake.WaitAsync(_options.ApplicationRefreshInterval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { break; }
            catch (Exception e) { _logger.LogError(e, "application reconcile failed"); }
        }
    }

    private async Task RefreshAllAsync(CancellationToken ct)
    {
        var apps = _store.List(ResourceKind.Application, null).Items;
        foreach (var app in apps)
        {
            await SyncAsync(app, ct).ConfigureAwait(false);
        }

        // An Application deleted: prune what it applied, as the resources finalizer does.
        var live = apps.Select(a => (a.Namespace, a.Name)).ToHashSet();
        foreach (var key in _synced.Keys.Where(k => !live.Contains(k)).ToList())
        {
            _synced.Remove(key);
            Prune(key.Name, new HashSet<(ResourceKind, string, string)>());
        }
    }

    private async Task SyncAsync(StoredObject app, CancellationToken ct)
    {
        var spec = app.Node["spec"];
        var repo = Json.Str(spec, "source", "repoURL") ?? "";
        var revision = Json.Str(spec, "source", "targetRevision") ?? "HEAD";
        var path = Json.Str(spec, "source", "path") ?? "";
        var destination = Json.Str(spec, "destination", "namespace") ?? "default";
        string sha;
        try
        {
            sha = await _git.ResolveAsync(repo.StartsWith("file://", StringComparison.Ordinal) ? new Uri(repo).LocalPath : repo, revision, ct).ConfigureAwait(false);
        }
        catch (SourceException e)
        {
            WriteStatus(app, status => status["conditions"] = Conditions("ComparisonError", $"Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: {e.Message}"),
                sync: ("Unknown", Json.Str(app.Node, "status", "sync", "revision")));
            return;
        }

        var key = (app.Namespace, app.Name);
        var wanted = $"{sha}|{repo}|{path}|{destination}";
        if (_synced.GetValueOrDefault(key) == wanted)
        {
            UpdateHealth(app);
            return;
        }

        _synced[key] = wanted;
        var started = Json.Time(_time.GetUtcNow());
        try
        {
            var objects = _reader.Read(await _git.FilesAsync(repo.StartsWith("file://", StringComparison.Ordinal) ? new Uri(repo).LocalPath : repo, sha, path, ct).ConfigureAwait(false), destination);
            var applied = new HashSet<(ResourceKind, string, string)>();
            foreach (var (kind, ns, obj) in objects)
            {
                EnsureNamespace(ns);
                Json.Obj(Json.Obj(obj, "metadata"), "labels")[InstanceLabel] = app.Name;
                var name = Json.Str(obj, "metadata", "name") ?? throw new SourceException($"{kind.Kind} without metadata.name");
                _resources.Apply(kind, ns, name, obj, FieldManager, force: true);
                applied.Add((kind, ns, name));
            }

            var pruned = Prune(app.Name, applied);
            WriteStatus(app, status =>
            {
                status.Remove("conditions");
                status["operationState"] = Operation("Succeeded", $"successfully synced (all tasks run){(pruned > 0 ? $", pruned {pruned}" : "")}", sha, started);
            }, sync: ("Synced", sha));
        }
        catch (Exception e) when (e is ApiError or SourceException or ManifestException)
        {
            var message = $"one or more objects failed to apply, reason: {e.Message}";
            WriteStatus(app, status =>
            {
                status["conditions"] = Conditions("SyncError", message);
                status["operationState"] = Operation("Failed", message, sha, started);
            }, sync: ("OutOfSync", sha));
        }
    }

    private void EnsureNamespace(string ns)
    {
        if (_store.Get(ResourceKind.Namespace, "", ns) is null)
        {
            _resources.Create(ResourceKind.Namespace, "", new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } }, FieldManager);
        }
    }

    /// <summary>Deletes what the application applied before that is not in <paramref name="keep"/>; returns how many.</summary>
    private int Prune(string app, IReadOnlySet<(ResourceKind, string, string)> keep)
    {
        var count = 0;
        foreach (var kind in Prunable)
        {
            foreach (var o in _store.List(kind, null, o => o.Labels?[InstanceLabel]?.GetValue<string>() == app).Items)
            {
                if (!keep.Contains((kind, o.Namespace, o.Name)) && _store.Delete(kind, o.Namespace, o.Name, o.Uid) is not null)
                {
                    count++;
                }
            }
        }

        return count;
    }

    private void UpdateHealthAll()
    {
        foreach (var app in _store.List(ResourceKind.Application, null).Items)
        {
            UpdateHealth(app);
        }
    }

    private void UpdateHealth(StoredObject app) => WriteStatus(app, _ => { }, sync: null);

    private void WriteStatus(StoredObject app, Action<JsonObject> change, (string Status, string? Revision)? sync)
    {
        var deployments = _store.List(ResourceKind.Deployment, null, o => o.Labels?[InstanceLabel]?.GetValue<string>() == app.Name).Items;
        var (health, message) = ArgoHealth.Of(deployments);
        t_writingStatus = true;
        try
        {
            WriteStatus(app, change, sync, health, message);
        }
        finally
        {
            t_writingStatus = false;
        }
    }

    private void WriteStatus(StoredObject app, Action<JsonObject> change, (string Status, string? Revision)? sync, string health, string? message) =>
        _store.Update(ResourceKind.Application, app.Namespace, app.Name, current =>
        {
            if (current is null || current.Uid != app.Uid)
            {
                return null;
            }

            var next = current.Clone();
            var status = next["status"] as JsonObject ?? new JsonObject();
            next["status"] = status;
            change(status);
            if (sync is { } s)
            {
                status["sync"] = new JsonObject
                {
                    ["status"] = s.Status,
                    ["revision"] = s.Revision,
                    ["comparedTo"] = new JsonObject { ["source"] = next["spec"]?["source"]?.DeepClone(), ["destination"] = next["spec"]?["destination"]?.DeepClone() },
                };
            }

            status["health"] = message is null ? new JsonObject { ["status"] = health } : new JsonObject { ["status"] = health, ["message"] = message };
            return next;
        });

    private static JsonArray Conditions(string type, string message) => [new JsonObject { ["type"] = type, ["message"] = message }];

    private JsonObject Operation(string phase, string message, string sha, string started) => new()
    {
        ["phase"] = phase,
        ["message"] = message,
        ["startedAt"] = started,
        ["finishedAt"] = Json.Time(_time.GetUtcNow()),
        ["syncResult"] = new JsonObject { ["revision"] = sha },
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _git.Dispose();
        _stop.Dispose();
    }
}

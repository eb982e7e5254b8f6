using System.Diagnostics;
using System.Text.Json;
using k8s;

namespace DeployPortal.KubeEmulator.Tests;

/// <summary>
/// The Argo CD-like Application controller, through the real KubernetesClient's custom-object API, against a real git
/// repository: sync to the target revision, health from the Deployments, pruning, and the failure statuses.
/// </summary>
public sealed class ApplicationControllerTests() : EmulatorTestBase(o => o.ApplicationRefreshInterval = TimeSpan.FromMilliseconds(100)), IDisposable
{
    private readonly string _repo = Directory.CreateTempSubdirectory("argo-repo-").FullName;

    public void Dispose() => Directory.Delete(_repo, recursive: true);

    private static string Manifest(string name, string image, int replicas = 1, string ns = "") => $"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
        {(ns.Length > 0 ? $"  namespace: {ns}\n" : "")}spec:
          replicas: {replicas}
          selector:
            matchLabels:
              app: {name}
          template:
            metadata:
              labels:
                app: {name}
            spec:
              containers:
              - name: app
                image: {image}
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: {name}
        spec:
          selector:
            app: {name}
          ports:
          - port: 80
        """;

    private static string Git(string dir, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-c", "user.name=t", "-c", "user.email=t@t.invalid", .. args])
        {
            start.ArgumentList.Add(a);
        }

        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"git {string.Join(' ', args)}: {error}");
        return output.Trim();
    }

    private string Commit(string path, string? text)
    {
        var file = Path.Combine(_repo, path);
        if (text is null)
        {
            File.Delete(file);
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, text);
        }

        Git(_repo, "add", "-A");
        Git(_repo, "commit", "--quiet", "--allow-empty", "-m", "change " + path);
        return Git(_repo, "rev-parse", "HEAD");
    }

    private async Task CreateApplicationAsync(string name, string path, string revision = "main", string repoUrl = "")
    {
        var app = new Dictionary<string, object>
        {
            ["apiVersion"] = "argoproj.io/v1alpha1",
            ["kind"] = "Application",
            ["metadata"] = new Dictionary<string, object> { ["name"] = name, ["namespace"] = "default" },
            ["spec"] = new Dictionary<string, object>
            {
                ["project"] = "default",
                ["source"] = new Dictionary<string, object> { ["repoURL"] = repoUrl.Length > 0 ? repoUrl : new Uri(_repo).AbsoluteUri, ["targetRevision"] = revision, ["path"] = path },
                ["destination"] = new Dictionary<string, object> { ["server"] = "https://kubernetes.default.svc", ["namespace"] = "apps" },
                ["syncPolicy"] = new Dictionary<string, object> { ["automated"] = new Dictionary<string, object> { ["prune"] = true } },
            },
        };
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(app, "argoproj.io", "v1alpha1", "default", "applications");
    }

    /// <summary>Polls the Application's status (with a deadline) until <paramref name="condition"/> holds.</summary>
    private async Task<JsonElement> WaitForStatusAsync(string name, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var app = (JsonElement)await Client.CustomObjects.GetNamespacedCustomObjectAsync("argoproj.io", "v1alpha1", "default", "applications", name);
            if (app.TryGetProperty("status", out var status) && condition(status))
            {
                return status;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the Application {name} never got there; last status: {(app.TryGetProperty("status", out var s) ? s.ToString() : "none")}");
            await Task.Delay(50);
        }
    }

    private static string Str(JsonElement e, params string[] path)
    {
        foreach (var p in path)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(p, out e))
            {
                return "";
            }
        }

        return e.ValueKind == JsonValueKind.String ? e.GetString()! : e.ToString();
    }

    private static bool SyncedHealthy(JsonElement s, string sha) =>
        Str(s, "sync", "revision") == sha && Str(s, "sync", "status") == "Synced" && Str(s, "health", "status") == "Healthy";

    [Fact]
    public async Task Application_SyncsTheRevision_AppliesWithTrackingLabel_AndTurnsHealthyWhenAvailable()
    {
        Git(_repo, "init", "--quiet", "--initial-branch=main");
        var sha = Commit("slots/qa-1/web/manifests.yaml", Manifest("web", "nginx:1.27", replicas: 2));

        await CreateApplicationAsync("qa-1-web", "slots/qa-1/web");

        var status = await WaitForStatusAsync("qa-1-web", s => SyncedHealthy(s, sha));
        Assert.Equal("Succeeded", Str(status, "operationState", "phase"));
        Assert.Equal(sha, Str(status, "operationState", "syncResult", "revision"));
        var deployment = await Client.AppsV1.ReadNamespacedDeploymentAsync("web", "apps");
        Assert.Equal(2, deployment.Status.AvailableReplicas);
        Assert.Equal("qa-1-web", deployment.Metadata.Labels["app.kubernetes.io/instance"]);
        Assert.Contains(deployment.Metadata.ManagedFields, f => f.Manager == "argocd-controller");
        Assert.NotNull(await Client.CoreV1.ReadNamespacedServiceAsync("web", "apps"));
    }

    [Fact]
    public async Task Application_NewCommit_IsSyncedAndWhatItNoLongerHasIsPruned()
    {
        Git(_repo, "init", "--quiet", "--initial-branch=main");
        Commit("slots/qa-1/web/a.yaml", Manifest("web", "nginx:1.27"));
        var first = Commit("slots/qa-1/web/b.yaml", Manifest("extra", "nginx:1.27"));
        await CreateApplicationAsync("qa-1-web", "slots/qa-1/web");
        await WaitForStatusAsync("qa-1-web", s => SyncedHealthy(s, first));
        Assert.NotNull(await Client.AppsV1.ReadNamespacedDeploymentAsync("extra", "apps"));

        var second = Commit("slots/qa-1/web/b.yaml", null);

        var status = await WaitForStatusAsync("qa-1-web", s => SyncedHealthy(s, second));
        Assert.Contains("pruned 2", Str(status, "operationState", "message"));
        Assert.DoesNotContain((await Client.AppsV1.ListNamespacedDeploymentAsync("apps")).Items, d => d.Metadata.Name == "extra");
        Assert.NotNull(await Client.AppsV1.ReadNamespacedDeploymentAsync("web", "apps"));

        // The whole directory removed (a released slot): everything pruned, an empty application is Synced.
        var third = Commit("slots/qa-1/web/a.yaml", null);
        await WaitForStatusAsync("qa-1-web", s => SyncedHealthy(s, third));
        Assert.Empty((await Client.AppsV1.ListNamespacedDeploymentAsync("apps")).Items);
    }

    [Fact]
    public async Task Application_ImageThatCannotBePulled_ReportsDegradedWhenTheProgressDeadlinePasses()
    {
        Git(_repo, "init", "--quiet", "--initial-branch=main");
        var sha = Commit("app/d.yaml", Manifest("bad", "registry.example.com/does-not-exist/bad:1").Replace("  replicas: 1", "  replicas: 1\n  progressDeadlineSeconds: 1"));
        await CreateApplicationAsync("bad", "app");

        var progressing = await WaitForStatusAsync("bad", s => Str(s, "sync", "revision") == sha && Str(s, "health", "status") == "Progressing");
        Assert.StartsWith("Waiting for rollout to finish", Str(progressing, "health", "message"));
        var degraded = await WaitForStatusAsync("bad", s => Str(s, "health", "status") == "Degraded");
        Assert.Equal("Deployment \"bad\" exceeded its progress deadline", Str(degraded, "health", "message"));
    }

    [Fact]
    public async Task Application_InvalidManifest_IsOutOfSync_WithTheSyncErrorAsConditionAndOperationMessage()
    {
        Git(_repo, "init", "--quiet", "--initial-branch=main");
        var sha = Commit("app/d.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n");
        await CreateApplicationAsync("widgets", "app");

        var status = await WaitForStatusAsync("widgets", s => Str(s, "sync", "status") == "OutOfSync");
        Assert.Equal(sha, Str(status, "sync", "revision"));
        Assert.Equal("Failed", Str(status, "operationState", "phase"));
        Assert.Contains("one or more objects failed to apply", Str(status, "operationState", "message"));
        var condition = status.GetProperty("conditions")[0];
        Assert.Equal("SyncError", Str(condition, "type"));
        Assert.Contains("app/d.yaml", Str(condition, "message"));
    }

    [Fact]
    public async Task Application_RevisionThatDoesNotExist_ReportsAComparisonError_AndAppliesNothing()
    {
        Git(_repo, "init", "--quiet", "--initial-branch=main");
        Commit("app/d.yaml", Manifest("web", "nginx:1.27"));
        await CreateApplicationAsync("web", "app", revision: "no-such-branch");

        var status = await WaitForStatusAsync("web", s => Str(s, "sync", "status") == "Unknown");
        var condition = status.GetProperty("conditions")[0];
        Assert.Equal("ComparisonError", Str(condition, "type"));
        Assert.Contains("unable to resolve 'no-such-branch'", Str(condition, "message"));
        Assert.Empty((await Client.AppsV1.ListDeploymentForAllNamespacesAsync(labelSelector: "app.kubernetes.io/instance=web")).Items);
    }

    [Fact]
    public async Task Application_Deleted_PrunesWhatItApplied()
    {
        Git(_repo, "init", "--quiet", "--initial-branch=main");
        var sha = Commit("app/d.yaml", Manifest("web", "nginx:1.27"));
        await CreateApplicationAsync("web", "app");
        await WaitForStatusAsync("web", s => SyncedHealthy(s, sha));

        await Client.CustomObjects.DeleteNamespacedCustomObjectAsync("argoproj.io", "v1alpha1", "default", "applications", "web");

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await Client.AppsV1.ListNamespacedDeploymentAsync("apps")).Items.Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the deleted Application's Deployment was never pruned");
            await Task.Delay(50);
        }
    }
}

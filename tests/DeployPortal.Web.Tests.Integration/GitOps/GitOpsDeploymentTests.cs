using System.Text.Json;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Git;
using DeployPortal.Web.GitOps;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeployPortal.Web.Tests.GitOps;

/// <summary>
/// GitOps mode end to end with real parts: the portal's pipeline commits to a real bare git repository, the Kubernetes
/// API emulator's Argo CD-like controller fetches it and applies it, and the portal follows the Application through
/// the real KubernetesClient until it is synced and healthy.
/// </summary>
public sealed class GitOpsDeploymentTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("deployportal-gitops-test-").FullName;
    private readonly GitClient _git = new(NullLogger<GitClient>.Instance);
    private DeployHarness _h = default!;

    private const string PortalService = "deployportal.deployportal.svc.cluster.local";

    private string ConfigRepo => _h.ConfigRepository;

    public async Task InitializeAsync()
    {
        _h = await DeployHarness.CreateAsync(startHost: false, mode: DeploymentMode.GitOps);
        _h.StartHost(new Dictionary<string, string?>
        {
            ["Notifications:PublicUrl"] = "https://portal.example.com/",
            ["Cluster:WakeHost"] = PortalService,
        });
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private Task<string> ConfigGitAsync(params string[] args) => _h.ConfigGitAsync(args);

    private async Task<JsonElement> ApplicationAsync(string name) =>
        (JsonElement)await _h.Kubernetes.CustomObjects.GetNamespacedCustomObjectAsync("argoproj.io", "v1alpha1", "argocd", "applications", name);

    private static string? Revision(JsonElement app) => app.GetProperty("status").GetProperty("sync").GetProperty("revision").GetString();

    [Fact]
    public async Task Deploy_CommitsTheManifests_ArgoCdSyncsThatCommit_AndTheDeploymentSucceedsWithPods()
    {
        var queued = await _h.DeployAsync(TestUsers.Dana, "storefront", "feature/login", "qa-1", "login test");

        var done = await _h.WaitFinishedAsync(queued.Id);

        Assert.True(done.State == DeploymentState.Succeeded, done.FailureReason);
        var head = (await ConfigGitAsync("rev-parse", "main")).Trim();
        Assert.Equal(head, done.ConfigCommit);
        Assert.StartsWith($"Committed {head[..7]} to slots/qa-1/storefront/", done.Steps.Single(s => s.Name == StepName.Apply).Message);
        Assert.EndsWith("Argo CD synced it", done.Steps.Single(s => s.Name == StepName.Apply).Message);
        Assert.Contains($"Argo CD reports storefront Synced and Healthy at {head[..7]}", done.Steps.Single(s => s.Name == StepName.Verify).Message);

        // The commit: the same manifests the direct mode applies, and who, what, why and the link back.
        Assert.Equal("slots/qa-1/storefront/deployment.yaml\nslots/qa-1/storefront/ingress.yaml\nslots/qa-1/storefront/service.yaml",
            (await ConfigGitAsync("ls-tree", "-r", "--name-only", "main")).Trim());
        var yaml = await ConfigGitAsync("show", "main:slots/qa-1/storefront/deployment.yaml");
        var committed = KubernetesYaml.Deserialize<k8s.Models.V1Deployment>(yaml);
        Assert.Equal("registry.example.com/shop/storefront:feature-login", committed.Spec.Template.Spec.Containers[0].Image);
        Assert.Equal(done.HoldId.ToString(), committed.Metadata.Labels[Web.Cluster.ManifestBuilder.HoldLabel]);
        var message = await ConfigGitAsync("log", "-1", "--format=%an%n%B", "main");
        Assert.StartsWith("DeployPortal\nDeploy storefront feature/login (" + done.Commit![..7] + ") to qa-1", message);
        Assert.Contains("Requested by: Dana Developer", message);
        Assert.Contains("Why: login test", message);
        Assert.Contains($"Deployment: https://portal.example.com/deployments/{done.Id}", message);

        // Argo CD (the emulator's controller) applied it, not the portal, and reports that revision.
        var app = await ApplicationAsync("qa-1-storefront");
        Assert.Equal(head, Revision(app));
        Assert.Equal("Healthy", app.GetProperty("status").GetProperty("health").GetProperty("status").GetString());
        var deployment = await _h.Kubernetes.AppsV1.ReadNamespacedDeploymentAsync("storefront", "qa-1");
        Assert.Equal(2, deployment.Status.AvailableReplicas);
        Assert.Contains(deployment.Metadata.ManagedFields, f => f.Manager == "argocd-controller");
        Assert.DoesNotContain(deployment.Metadata.ManagedFields, f => f.Manager == Web.Cluster.ManifestBuilder.FieldManager);
        Assert.Equal(2, (await _h.WaitForPodsAsync("qa-1", "storefront", pods => pods.Count(p => p.Status.Phase == "Running") == 2)).Count);
    }

    [Fact]
    public async Task Release_CommitsTheRemovalOfTheSlotsFiles_AndArgoCdPrunesThem()
    {
        var done = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "storefront", "main", "qa-2", "release test")).Id);
        Assert.True(done.State == DeploymentState.Succeeded, done.FailureReason);

        var slots = _h.Service<HoldActions>(out var scope);
        using (scope)
        {
            var released = await slots.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(done.SlotId, done.HoldId!.Value, QaOutcome.Pass));
            Assert.True(released.Succeeded, released.Failure?.Message);
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await _h.Kubernetes.AppsV1.ListNamespacedDeploymentAsync("qa-2")).Items.Count > 0
            || (await _h.Kubernetes.CoreV1.ListNamespacedServiceAsync("qa-2")).Items.Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "Argo CD never pruned the released slot's objects");
            await Task.Delay(50); // bounded poll of the cluster, not a fixed wait
        }

        Assert.Empty((await _h.Kubernetes.NetworkingV1.ListNamespacedIngressAsync("qa-2")).Items);
        Assert.Equal("", (await ConfigGitAsync("ls-tree", "-r", "--name-only", "main", "--", "slots/qa-2")).Trim());
        Assert.StartsWith($"Release qa-2: remove what hold #{done.HoldId} deployed", await ConfigGitAsync("log", "-1", "--format=%s", "main"));
        Assert.Equal(2, int.Parse(await ConfigGitAsync("rev-list", "--count", "main")));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // git hooks are executable files
    public async Task Push_RejectedByAPreReceiveHook_FailsTheDeployment_WithTheServersReason()
    {
        var hook = Path.Combine(ConfigRepo, "hooks", "pre-receive");
        await File.WriteAllTextAsync(hook, "#!/bin/sh\necho 'Branch protection: main needs a reviewed pull request' >&2\nexit 1\n");
        File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var done = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-1")).Id);

        Assert.Equal(DeploymentState.Failed, done.State);
        Assert.Equal("The configuration repository refused the push: Branch protection: main needs a reviewed pull request (pre-receive hook declined)", done.FailureReason);
        Assert.Equal(StepState.Failed, done.Steps.Single(s => s.Name == StepName.Apply).State);
        Assert.Null(done.ConfigCommit);
        Assert.Empty((await _h.Kubernetes.AppsV1.ListDeploymentForAllNamespacesAsync(labelSelector: "app.kubernetes.io/name=payments")).Items);
        Assert.NotEqual(0, (await _git.TryRunAsync(ConfigRepo, null, default, "rev-parse", "--verify", "--quiet", "main")).ExitCode);
    }

    [Fact]
    public async Task Deploy_WhenArgoCdCannotApplyTheCommit_FailsWithArgoCdsConditionAndMessage()
    {
        // The Application of qa-1/payments exists already (an ApplicationSet's, say) and points at a folder with a manifest
        // of a kind the cluster does not serve: Argo CD's sync of the portal's commit fails with a SyncError.
        var other = Path.Combine(_folder, "other");
        await _git.RunAsync(_folder, default, "clone", "--quiet", ConfigRepo, other);
        Directory.CreateDirectory(Path.Combine(other, "broken"));
        await File.WriteAllTextAsync(Path.Combine(other, "broken", "w.yaml"), "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n");
        await _git.RunAsync(other, default, "add", "broken");
        await _git.RunAsync(other, default, "-c", "user.name=o", "-c", "user.email=o@o.invalid", "commit", "--quiet", "-m", "broken");
        await _git.RunAsync(other, default, "push", "--quiet", "origin", "HEAD:main");
        await _h.Kubernetes.CoreV1.CreateNamespaceAsync(new k8s.Models.V1Namespace { Metadata = new() { Name = "argocd" } });
        await _h.Kubernetes.CustomObjects.CreateNamespacedCustomObjectAsync(new Dictionary<string, object>
        {
            ["apiVersion"] = "argoproj.io/v1alpha1",
            ["kind"] = "Application",
            ["metadata"] = new Dictionary<string, object> { ["name"] = "qa-1-payments", ["namespace"] = "argocd" },
            ["spec"] = new Dictionary<string, object>
            {
                ["source"] = new Dictionary<string, object> { ["repoURL"] = ConfigRepo, ["targetRevision"] = "main", ["path"] = "broken" },
                ["destination"] = new Dictionary<string, object> { ["namespace"] = "qa-1" },
            },
        }, "argoproj.io", "v1alpha1", "argocd", "applications");

        var done = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-1")).Id);

        Assert.Equal(DeploymentState.Failed, done.State);
        Assert.StartsWith($"Argo CD could not deploy {done.ConfigCommit![..7]}: SyncError: one or more objects failed to apply, reason: broken/w.yaml", done.FailureReason);
        Assert.Equal(StepState.Failed, done.Steps.Single(s => s.Name == StepName.Apply).State);
        Assert.Equal((await ConfigGitAsync("rev-parse", "main")).Trim(), done.ConfigCommit);
    }

    [Fact]
    public async Task Rollback_CommitsTheEarlierDeploymentsStateAgain()
    {
        var first = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-1")).Id);
        var second = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "payments", "feature/payment", "qa-1")).Id);
        Assert.True(second.State == DeploymentState.Succeeded, second.FailureReason);

        var deployments = _h.Service<DeploymentService>(out var scope);
        DeploymentView again;
        using (scope)
        {
            var redeploy = await deployments.RedeployAsync(TestUsers.Dana, first.Id);
            Assert.True(redeploy.Succeeded, redeploy.Failure?.Message);
            again = await _h.WaitFinishedAsync(redeploy.Value!.Id);
        }

        Assert.True(again.State == DeploymentState.Succeeded, again.FailureReason);
        Assert.Equal(3, new[] { first.ConfigCommit, second.ConfigCommit, again.ConfigCommit }.Distinct().Count());
        Assert.Equal((await ConfigGitAsync("rev-parse", "main")).Trim(), again.ConfigCommit);
        var image = KubernetesYaml.Deserialize<k8s.Models.V1Deployment>(await ConfigGitAsync("show", $"{again.ConfigCommit}:slots/qa-1/payments/deployment.yaml"))
            .Spec.Template.Spec.Containers[0].Image;
        Assert.Equal("registry.example.com/shop/payments:main", image);
        Assert.Contains("Rollback:", await ConfigGitAsync("log", "-1", "--format=%B", again.ConfigCommit!));
        var running = await _h.Kubernetes.AppsV1.ReadNamespacedDeploymentAsync("payments", "qa-1");
        Assert.Equal("registry.example.com/shop/payments:main", running.Spec.Template.Spec.Containers[0].Image);
    }

    [Fact]
    public async Task Commit_WhenSomeoneElsePushedFirst_IsRebasedOntoTheirCommit_AndPushed()
    {
        var repository = _h.Host.Services.GetRequiredService<ConfigRepository>();
        await repository.CommitAsync(work => File.WriteAllTextAsync(Path.Combine(work, "README.md"), "config\n"), "first", default);
        var other = Path.Combine(_folder, "other");
        await _git.RunAsync(_folder, default, "clone", "--quiet", ConfigRepo, other);

        // Between the portal's fetch and its push, another writer pushes a commit of its own.
        var sha = await repository.CommitAsync(async work =>
        {
            await File.WriteAllTextAsync(Path.Combine(other, "other.txt"), "theirs\n");
            await _git.RunAsync(other, default, "add", "other.txt");
            await _git.RunAsync(other, default, "-c", "user.name=o", "-c", "user.email=o@o.invalid", "commit", "--quiet", "-m", "theirs");
            await _git.RunAsync(other, default, "push", "--quiet", "origin", "HEAD:main");
            await File.WriteAllTextAsync(Path.Combine(work, "ours.txt"), "ours\n");
        }, "ours", default);

        Assert.Equal((await ConfigGitAsync("rev-parse", "main")).Trim(), sha);
        Assert.Equal("ours\ntheirs\nfirst", (await ConfigGitAsync("log", "--format=%s", "main")).Trim());
        Assert.Equal("README.md\nother.txt\nours.txt", (await ConfigGitAsync("ls-tree", "-r", "--name-only", "main")).Trim());
    }

    [Fact]
    public async Task Commit_WhenSomeoneElseChangedTheSameFile_FailsSayingSo_AndPushesNothing()
    {
        var repository = _h.Host.Services.GetRequiredService<ConfigRepository>();
        await repository.CommitAsync(work => File.WriteAllTextAsync(Path.Combine(work, "shared.txt"), "base\n"), "first", default);
        var other = Path.Combine(_folder, "other");
        await _git.RunAsync(_folder, default, "clone", "--quiet", ConfigRepo, other);

        var failure = await Assert.ThrowsAsync<GitException>(() => repository.CommitAsync(async work =>
        {
            await File.WriteAllTextAsync(Path.Combine(other, "shared.txt"), "theirs\n");
            await _git.RunAsync(other, default, "-c", "user.name=o", "-c", "user.email=o@o.invalid", "commit", "--quiet", "-am", "theirs");
            await _git.RunAsync(other, default, "push", "--quiet", "origin", "HEAD:main");
            await File.WriteAllTextAsync(Path.Combine(work, "shared.txt"), "ours\n");
        }, "ours", default));

        Assert.StartsWith("Someone else changed the same files in the configuration repository at the same time", failure.Message);
        Assert.Equal("theirs\nfirst", (await ConfigGitAsync("log", "--format=%s", "main")).Trim());
    }

    [Fact]
    public async Task SleepAndWake_AreCommits_ArgoCdScalesTheAppAndMovesItsAddress_AndNothingPatchesTheClusterDirectly()
    {
        var done = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "storefront", "main", "qa-1", "sleep test")).Id);
        Assert.True(done.State == DeploymentState.Succeeded, done.FailureReason);
        var idle = _h.Service<IdleSlots>(out var scope);
        using (scope)
        {
            Assert.True((await idle.SleepAsync(TestUsers.Dana, done.SlotId, done.HoldId!.Value)).Succeeded);

            // The commit: zero replicas with the count remembered, and the app's address led to the wake page through a
            // Service in the app's own folder. Argo CD applies it: the cluster follows the repository.
            var asleep = await _h.WaitForDeploymentAsync("qa-1", "storefront", d => d.Spec.Replicas == 0 && (d.Status.Replicas ?? 0) == 0);
            Assert.Equal("2", asleep.Metadata.Annotations[ManifestBuilder.ReplicasBeforeSleepAnnotation]);
            Assert.DoesNotContain(asleep.Metadata.ManagedFields, f => f.Manager == ManifestBuilder.SleepFieldManager);
            Assert.StartsWith("Sleep qa-1 storefront: put to sleep from the board", await ConfigGitAsync("log", "-1", "--format=%B", "main"));
            var committed = KubernetesYaml.Deserialize<k8s.Models.V1Deployment>(await ConfigGitAsync("show", "main:slots/qa-1/storefront/deployment.yaml"));
            Assert.Equal(0, committed.Spec.Replicas);
            var wakeService = await WaitForAsync(() => _h.Kubernetes.CoreV1.ListNamespacedServiceAsync("qa-1", fieldSelector: "metadata.name=deployportal-wake-storefront"),
                l => l.Items.Count == 1);
            Assert.Equal(("ExternalName", PortalService), (wakeService.Items[0].Spec.Type, wakeService.Items[0].Spec.ExternalName));
            await WaitForIngressBackendAsync("deployportal-wake-storefront");

            Assert.True((await idle.WakeAsync(TestUsers.Devon, done.SlotId, done.HoldId!.Value)).Value);
        }

        // Wake: the replicas back first; the address goes back to the app only once its pods are ready (a second commit).
        var awake = await _h.WaitForDeploymentAsync("qa-1", "storefront", d => d.Status.AvailableReplicas == 2);
        Assert.Equal(2, awake.Spec.Replicas);
        await WaitForIngressBackendAsync("storefront");
        await WaitForAsync(() => _h.Kubernetes.CoreV1.ListNamespacedServiceAsync("qa-1", fieldSelector: "metadata.name=deployportal-wake-storefront"), l => l.Items.Count == 0);
        Assert.False((await _h.Kubernetes.AppsV1.ReadNamespacedDeploymentAsync("storefront", "qa-1")).Metadata.Annotations?.ContainsKey(ManifestBuilder.ReplicasBeforeSleepAnnotation) ?? false);
        Assert.Equal("Lead qa-1 storefront back to the apps\nWake qa-1 storefront\nSleep qa-1 storefront: put to sleep from the board",
            string.Join("\n", (await ConfigGitAsync("log", "-3", "--format=%s", "main")).Trim().Split('\n')));
        Assert.Equal("slots/qa-1/storefront/deployment.yaml\nslots/qa-1/storefront/ingress.yaml\nslots/qa-1/storefront/service.yaml",
            (await ConfigGitAsync("ls-tree", "-r", "--name-only", "main")).Trim());
    }

    [Fact]
    public async Task Cancel_AfterTheCommitWasPushed_CommitsTheEarlierStateBack_AndArgoCdRunsItAgain()
    {
        var first = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-1")).Id);
        Assert.True(first.State == DeploymentState.Succeeded, first.FailureReason);
        _h.Emulator.Options.ReadyDelay = TimeSpan.FromSeconds(30); // the new pods are still starting when it is cancelled
        var running = await _h.DeployAsync(TestUsers.Dana, "payments", "feature/payment", "qa-1");
        var rollingOut = await _h.WaitForAsync(running.Id, d => d.Steps.Any(s => s.Name == StepName.Rollout));

        var cancelled = await CancelAsync(running.Id);

        Assert.Equal(DeploymentState.Cancelled, cancelled.State);
        var head = (await ConfigGitAsync("rev-parse", "main")).Trim();
        Assert.Equal($"Cancelled while running. Its configuration commit {rollingOut.ConfigCommit![..7]} was reverted by {head[..7]}.", cancelled.FailureReason);
        Assert.StartsWith($"Cancel deploy of payments to qa-1: back to before {rollingOut.ConfigCommit[..7]}", await ConfigGitAsync("log", "-1", "--format=%B", "main"));
        Assert.Equal("", (await ConfigGitAsync("diff", first.ConfigCommit!, "main", "--", "slots/qa-1/payments")).Trim());
        _h.Emulator.Options.ReadyDelay = TimeSpan.FromMilliseconds(150);
        var back = await _h.WaitForDeploymentAsync("qa-1", "payments", d => d.Spec.Template.Spec.Containers[0].Image == "registry.example.com/shop/payments:main");
        Assert.Equal(first.HoldId.ToString(), back.Metadata.Labels[ManifestBuilder.HoldLabel]);
    }

    [Fact]
    public async Task Cancel_OfTheFirstDeployOfAnApp_CommitsTheRemovalOfItsFolder_AndArgoCdPrunesIt()
    {
        _h.Emulator.Options.ReadyDelay = TimeSpan.FromSeconds(30);
        var running = await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-1");
        await _h.WaitForAsync(running.Id, d => d.Steps.Any(s => s.Name == StepName.Rollout));

        var cancelled = await CancelAsync(running.Id);

        Assert.Contains("was reverted by", cancelled.FailureReason);
        Assert.Equal("", (await ConfigGitAsync("ls-tree", "-r", "--name-only", "main", "--", "slots/qa-1")).Trim());
        await WaitForAsync(() => _h.Kubernetes.AppsV1.ListNamespacedDeploymentAsync("qa-1"), l => l.Items.Count == 0);
    }

    private async Task<DeploymentView> CancelAsync(long id)
    {
        var deployments = _h.Service<DeploymentService>(out var scope);
        using (scope)
        {
            Assert.True((await deployments.CancelAsync(TestUsers.Dana, id)).Succeeded);
        }

        return await _h.WaitFinishedAsync(id);
    }

    private async Task WaitForIngressBackendAsync(string service) =>
        await WaitForAsync(() => _h.Kubernetes.NetworkingV1.ReadNamespacedIngressAsync("storefront", "qa-1"),
            i => i.Spec.Rules.SelectMany(r => r.Http.Paths).All(p => p.Backend.Service.Name == service));

    /// <summary>Reads until <paramref name="condition"/> holds (a bounded poll of the cluster, not a fixed wait).</summary>
    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"never got there; last seen: {value}");
            await Task.Delay(50);
        }
    }
}

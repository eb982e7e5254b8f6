using k8s;
using k8s.Models;

namespace DeployPortal.KubeEmulator.Tests;

public sealed class ControllerTests : EmulatorTestBase
{
    private async Task<V1Deployment> ReadAsync(string name) => await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default");

    private static V1DeploymentCondition? Condition(V1Deployment d, string type) => d.Status?.Conditions?.FirstOrDefault(c => c.Type == type);

    [Fact]
    public async Task Deployment_HealthyImage_PodsGoThroughPhasesToReady()
    {
        var name = Unique("web");
        var start = (await Client.CoreV1.ListNamespacedPodAsync("default")).Metadata.ResourceVersion;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var watch = Client.CoreV1.WatchListNamespacedPodAsync("default", labelSelector: $"app={name}", resourceVersion: start, cancellationToken: cts.Token);
        await ApplyAsync(Deployment(name, "nginx:1.27"));

        var seen = new List<string>();
        await foreach (var (_, pod) in watch)
        {
            var cs = pod.Status?.ContainerStatuses?.FirstOrDefault();
            var state = cs is null ? $"Pending" : cs.State.Waiting is { } w ? w.Reason : cs.Ready ? "Ready" : "Running";
            if (seen.Count == 0 || seen[^1] != state)
            {
                seen.Add(state);
            }

            if (state == "Ready")
            {
                break;
            }
        }
        Assert.Equal(["Pending", "ContainerCreating", "Running", "Ready"], seen);
    }

    [Fact]
    public async Task Deployment_Ready_StatusReportsReplicasAndConditions()
    {
        var name = Unique("web");
        await ApplyAsync(Deployment(name, "nginx:1.27", replicas: 3));
        await Eventually(async () => (await ReadAsync(name)).Status?.AvailableReplicas == 3, "3 available replicas");

        var d = await ReadAsync(name);
        Assert.Equal(3, d.Status.Replicas);
        Assert.Equal(3, d.Status.UpdatedReplicas);
        Assert.Equal(3, d.Status.ReadyReplicas);
        Assert.Equal(d.Metadata.Generation, d.Status.ObservedGeneration);
        Assert.Equal("True", Condition(d, "Available")!.Status);
        Assert.Equal("MinimumReplicasAvailable", Condition(d, "Available")!.Reason);
        Assert.Equal("NewReplicaSetAvailable", Condition(d, "Progressing")!.Reason);
        var pods = await PodsOfAsync(name);
        Assert.Equal(3, pods.Count);
        Assert.All(pods, p =>
        {
            Assert.StartsWith(name + "-", p.Metadata.Name);
            Assert.Equal("Running", p.Status.Phase);
            Assert.Equal("ReplicaSet", p.Metadata.OwnerReferences[0].Kind);
            Assert.Equal("emulator-node", p.Spec.NodeName);
        });
        var rs = (await Client.AppsV1.ListNamespacedReplicaSetAsync("default", labelSelector: $"app={name}")).Items.Single();
        Assert.Equal(3, rs.Status.ReadyReplicas);
        var events = await Client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: $"involvedObject.name={name}");
        Assert.Contains(events.Items, e => e.Reason == "ScalingReplicaSet");
    }

    [Fact]
    public async Task Deployment_NewTemplate_RollsPodsOverToNewReplicaSet()
    {
        var name = Unique("web");
        await ApplyAsync(Deployment(name, "nginx:1.27", replicas: 2));
        await Eventually(async () => (await ReadAsync(name)).Status?.AvailableReplicas == 2, "first rollout");
        var oldPods = (await PodsOfAsync(name)).Select(p => p.Metadata.Name).ToHashSet();

        await ApplyAsync(Deployment(name, "nginx:1.28", replicas: 2));
        await Eventually(async () =>
        {
            var d = await ReadAsync(name);
            var pods = await PodsOfAsync(name);
            return Condition(d, "Progressing")?.Reason == "NewReplicaSetAvailable" && d.Status.UpdatedReplicas == 2 && d.Status.AvailableReplicas == 2
                && pods.Count == 2 && pods.All(p => p.Spec.Containers[0].Image == "nginx:1.28" && !oldPods.Contains(p.Metadata.Name));
        }, "rollout to nginx:1.28");
        var sets = (await Client.AppsV1.ListNamespacedReplicaSetAsync("default", labelSelector: $"app={name}")).Items;
        Assert.Equal(2, sets.Count);
        Assert.Contains(sets, s => s.Spec.Replicas == 0);
        Assert.Equal("2", (await ReadAsync(name)).Metadata.Annotations["deployment.kubernetes.io/revision"]);
    }

    [Fact]
    public async Task Deployment_ScaledToZero_RemovesAllPods()
    {
        var name = Unique("web");
        await ApplyAsync(Deployment(name, "nginx", replicas: 2));
        await Eventually(async () => (await ReadAsync(name)).Status?.AvailableReplicas == 2, "2 available");
        await ApplyAsync(Deployment(name, "nginx", replicas: 0));
        await Eventually(async () => (await PodsOfAsync(name)).Count == 0, "no pods");
        await Eventually(async () =>
        {
            var d = await ReadAsync(name);
            return (d.Status.Replicas ?? 0) == 0 && Condition(d, "Available")?.Status == "True";
        }, "status at zero");
    }

    [Fact]
    public async Task Deployment_Deleted_RemovesReplicaSetsAndPods()
    {
        var name = Unique("web");
        await ApplyAsync(Deployment(name, "nginx", replicas: 2));
        await Eventually(async () => (await PodsOfAsync(name)).Count == 2, "2 pods");
        await Client.AppsV1.DeleteNamespacedDeploymentAsync(name, "default");
        await Eventually(async () => (await PodsOfAsync(name)).Count == 0
            && (await Client.AppsV1.ListNamespacedReplicaSetAsync("default", labelSelector: $"app={name}")).Items.Count == 0, "pods and replica sets gone");
    }

    [Fact]
    public async Task FailureMode_PullErrorImage_ShowsErrImagePullThenImagePullBackOff()
    {
        var name = Unique("pull");
        await ApplyAsync(Deployment(name, "registry.example/team/app:pull-error"));
        var reasons = new HashSet<string>();
        await Eventually(async () =>
        {
            foreach (var p in await PodsOfAsync(name))
            {
                if (p.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Waiting?.Reason is { } r)
                {
                    reasons.Add(r);
                }
            }

            return reasons.Contains("ErrImagePull") && reasons.Contains("ImagePullBackOff");
        }, "ErrImagePull and ImagePullBackOff");
        var pod = (await PodsOfAsync(name)).Single();
        Assert.Equal("Pending", pod.Status.Phase);
        var events = await Client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: $"involvedObject.name={pod.Metadata.Name}");
        Assert.Contains(events.Items, e => e.Reason == "Failed" && e.Type == "Warning" && e.Message.Contains("Failed to pull image"));
    }

    [Fact]
    public async Task FailureMode_RepositoryDoesNotExist_IsAPullError()
    {
        var name = Unique("pull");
        await ApplyAsync(Deployment(name, "ghcr.io/does-not-exist/app:1.0"));
        await Eventually(async () => (await PodsOfAsync(name)).SingleOrDefault()?.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Waiting?.Reason is "ErrImagePull" or "ImagePullBackOff", "pull error");
    }

    [Fact]
    public async Task FailureMode_CrashImage_CrashLoopBackOffWithRisingRestartCountAndPreviousLog()
    {
        var name = Unique("crash");
        await ApplyAsync(Deployment(name, "registry.example/app:crashloop"));
        await Eventually(async () =>
        {
            var cs = (await PodsOfAsync(name)).SingleOrDefault()?.Status?.ContainerStatuses?.FirstOrDefault();
            return cs?.RestartCount >= 2 && cs.State.Waiting?.Reason == "CrashLoopBackOff";
        }, "CrashLoopBackOff with 2 restarts");
        var pod = (await PodsOfAsync(name)).Single();
        var status = pod.Status.ContainerStatuses[0];
        Assert.Equal(1, status.LastState.Terminated.ExitCode);
        Assert.Equal("Error", status.LastState.Terminated.Reason);
        Assert.False(status.Ready);

        await using var stream = await Client.CoreV1.ReadNamespacedPodLogAsync(pod.Metadata.Name, "default", previous: true);
        var previous = await new StreamReader(stream).ReadToEndAsync();
        Assert.Contains("Unhandled exception", previous);
        Assert.Contains("Starting app crashloop", previous);
    }

    [Fact]
    public async Task FailureMode_NeverReadyImage_RunsButProgressDeadlineExceeded()
    {
        var name = Unique("nr");
        await ApplyAsync(Deployment(name, "registry.example/app:never-ready", progressDeadlineSeconds: 1));
        await Eventually(async () => Condition(await ReadAsync(name), "Progressing")?.Reason == "ProgressDeadlineExceeded", "ProgressDeadlineExceeded");
        var d = await ReadAsync(name);
        Assert.Equal("False", Condition(d, "Progressing")!.Status);
        Assert.Equal("False", Condition(d, "Available")!.Status);
        var pod = (await PodsOfAsync(name)).Single();
        Assert.Equal("Running", pod.Status.Phase);
        Assert.False(pod.Status.ContainerStatuses[0].Ready);
        Assert.NotNull(pod.Status.ContainerStatuses[0].State.Running);
    }

    [Fact]
    public async Task FailureMode_PullErrorWithShortDeadline_ReportsProgressDeadlineExceeded()
    {
        var name = Unique("pd");
        await ApplyAsync(Deployment(name, "app:pull-error", progressDeadlineSeconds: 1));
        await Eventually(async () => Condition(await ReadAsync(name), "Progressing")?.Reason == "ProgressDeadlineExceeded", "ProgressDeadlineExceeded");
    }
}

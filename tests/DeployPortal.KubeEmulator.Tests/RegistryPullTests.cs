using k8s;
using k8s.Models;

namespace DeployPortal.KubeEmulator.Tests;

/// <summary>
/// The emulated kubelet pulling from Debian's real distribution registry: a missing image waits in ErrImagePull /
/// ImagePullBackOff with the runtime's "not found", a push lets the next pull succeed, and images of other hosts
/// (or an emulator without a registry) are never looked up.
/// </summary>
public sealed class RegistryPullTests : IAsyncLifetime
{
    private LoopbackRegistry _registry = default!;
    private EmulatorServer _emulator = default!;
    private Kubernetes _client = default!;

    public async Task InitializeAsync()
    {
        _registry = await LoopbackRegistry.StartAsync();
        _emulator = await EmulatorServer.StartAsync(Fast.Options(o => o.Registry = new() { Host = _registry.Host, PlainHttp = true }));
        _client = new Kubernetes(new KubernetesClientConfiguration { Host = _emulator.BaseAddress.ToString() });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _emulator.DisposeAsync();
        await _registry.DisposeAsync();
    }

    private async Task ApplyAsync(string name, string image) => await _client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = 1,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = image }] },
            },
        },
    }, "default");

    private async Task<V1ContainerStatus?> StatusAsync(string name) =>
        (await _client.CoreV1.ListNamespacedPodAsync("default", labelSelector: $"app={name}")).Items.SingleOrDefault()?.Status?.ContainerStatuses?.FirstOrDefault();

    [Fact]
    public async Task A_missing_image_shows_ErrImagePull_then_ImagePullBackOff_and_runs_once_it_is_pushed()
    {
        var image = $"{_registry.Host}/shop/web:feature-x";
        await ApplyAsync("web", image);

        var reasons = new HashSet<string>();
        string? message = null;
        await Wait.Until(async () =>
        {
            if ((await StatusAsync("web"))?.State?.Waiting is { } waiting)
            {
                reasons.Add(waiting.Reason);
                message = waiting.Reason == "ErrImagePull" ? waiting.Message : message;
            }

            return reasons.Contains("ErrImagePull") && reasons.Contains("ImagePullBackOff");
        }, "ErrImagePull and ImagePullBackOff");
        Assert.Equal($"rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found", message);
        Assert.False((await StatusAsync("web"))!.Ready);

        await _registry.PushAsync("shop/web", "feature-x"); // CI finishes: the next pull after the back-off finds it
        await Wait.Until(async () => (await StatusAsync("web"))?.Ready == true, "the container ready after the push");
    }

    [Fact]
    public async Task A_pushed_image_pulls_by_tag_and_by_digest()
    {
        var digest = await _registry.PushAsync("shop/api", "main");
        await ApplyAsync("api-tag", $"{_registry.Host}/shop/api:main");
        await ApplyAsync("api-digest", $"{_registry.Host}/shop/api@{digest}");

        await Wait.Until(async () => (await StatusAsync("api-tag"))?.Ready == true && (await StatusAsync("api-digest"))?.Ready == true, "both ready");
    }

    [Fact]
    public async Task Images_of_other_registries_are_not_looked_up()
    {
        // ghcr.io is not the configured registry (and there is no network here): it is never asked.
        await ApplyAsync("other", "ghcr.io/shop/web:main");

        await Wait.Until(async () => (await StatusAsync("other"))?.Ready == true, "ready by name, as without a registry");
    }

    [Fact]
    public async Task An_unreachable_registry_is_a_pull_error_that_says_so()
    {
        var closed = $"127.0.0.1:{LoopbackRegistry.FreePort()}";
        await using var emulator = await EmulatorServer.StartAsync(Fast.Options(o => o.Registry = new() { Host = closed, PlainHttp = true, Timeout = TimeSpan.FromSeconds(1) }));
        using var client = new Kubernetes(new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString() });
        var deployment = new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "down" },
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "down" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "down" } },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = $"{closed}/shop/web:main" }] },
                },
            },
        };
        await client.AppsV1.CreateNamespacedDeploymentAsync(deployment, "default");

        string? message = null;
        await Wait.Until(async () =>
        {
            var waiting = (await client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "app=down")).Items.SingleOrDefault()?.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Waiting;
            message = waiting?.Reason == "ErrImagePull" ? waiting.Message : message;
            return message is not null;
        }, "ErrImagePull");
        Assert.Contains($"failed to do request: Head \"http://{closed}/v2/shop/web/manifests/main\"", message);
    }
}

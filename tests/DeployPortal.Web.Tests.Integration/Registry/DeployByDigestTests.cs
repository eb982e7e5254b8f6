using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Registry;
using DeployPortal.Web.Tests.Infrastructure;
using k8s;

namespace DeployPortal.Web.Tests.Registry;

/// <summary>
/// The portal against the emulator and Debian's real registry: a deployment runs <c>repo@digest</c> as resolved when it
/// runs, and a rollback runs that digest again whatever the tag names by then.
/// </summary>
public sealed class DeployByDigestTests : IAsyncLifetime
{
    private const string User = "ci";
    private const string Password = "digest-pass";
    private RegistryServer _registry = default!;
    private DeployHarness _h = default!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync(User, Password);
        _h = await DeployHarness.CreateAsync(startHost: false);
        _h.StartHost(new Dictionary<string, string?>(RegistryHarness.For(_registry.Host, User, Password))
        {
            ["Apps:Items:0:ImageRepository"] = $"{_registry.Host}/shop/storefront", // storefront, tag {branchSlug}
            ["Apps:Items:1:ImageRepository"] = $"{_registry.Host}/shop/payments",   // payments, never pushed
            ["Registry:Timeout"] = "00:00:05",
        });
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        await _registry.DisposeAsync();
    }

    [Fact]
    public async Task A_tag_pushed_again_after_the_preflight_deploys_the_digest_resolved_at_deploy_time_and_rollback_keeps_it()
    {
        var image = $"{_registry.Host}/shop/storefront:main";
        var first = await _registry.PushAsync("shop/storefront", "main", DateTimeOffset.UtcNow.AddMinutes(-10));
        var check = _h.Service<ImageCheck>(out var scope);
        using (scope)
        {
            Assert.Equal(first.Digest, (await check.DescribeAsync(image))!.Digest); // what the form showed
        }

        var second = await _registry.PushAsync("shop/storefront", "main", DateTimeOffset.UtcNow); // CI pushed again meanwhile
        var done = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "storefront", "main", "qa-1")).Id);

        Assert.Equal(DeploymentState.Succeeded, done.State);
        Assert.Equal(image, done.Image);
        Assert.Equal(second.Digest, done.ImageDigest);
        Assert.Equal($"{_registry.Host}/shop/storefront@{second.Digest}", await RunningImageAsync());

        await _registry.PushAsync("shop/storefront", "main", DateTimeOffset.UtcNow); // and again: the rollback must not pick it up
        var service = _h.Service<DeploymentService>(out var serviceScope);
        DeploymentView again;
        using (serviceScope)
        {
            var redeploy = await service.RedeployAsync(TestUsers.Dana, done.Id);
            Assert.True(redeploy.Succeeded, redeploy.Failure?.Message);
            again = await _h.WaitFinishedAsync(redeploy.Value!.Id);
        }

        Assert.Equal(DeploymentState.Succeeded, again.State);
        Assert.Equal(second.Digest, again.ImageDigest);
        Assert.Equal($"{_registry.Host}/shop/storefront@{second.Digest}", await RunningImageAsync());
    }

    [Fact]
    public async Task A_deploy_of_an_image_that_is_not_built_is_refused_saying_so_and_queues_nothing()
    {
        var service = _h.Service<DeploymentService>(out var scope);
        using (scope)
        {
            var refused = await service.CreateAsync(TestUsers.Dana, new DeployRequest("payments", "main", await _h.SlotIdAsync("qa-2"), "payments test", TimeSpan.FromHours(1)));

            Assert.Equal($"The image {_registry.Host}/shop/payments:main is not built yet: deploy once CI has pushed it, or deploy as soon as it is built.", refused.Failure?.Message);
            Assert.Empty(await service.RecentAsync());
        }

        await _registry.PushAsync("shop/payments", "main", DateTimeOffset.UtcNow); // CI catches up: no cached "missing" stands in the way
        var done = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-2")).Id);
        Assert.Equal(DeploymentState.Succeeded, done.State);
    }

    private async Task<string> RunningImageAsync() =>
        (await _h.Kubernetes.AppsV1.ReadNamespacedDeploymentAsync("storefront", "qa-1")).Spec.Template.Spec.Containers[0].Image;
}

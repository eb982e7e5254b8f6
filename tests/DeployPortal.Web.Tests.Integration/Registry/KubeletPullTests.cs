using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Registry;

/// <summary>
/// The portal against an emulator whose kubelet pulls from Debian's real registry, with no registry configured in the
/// portal (so nothing stops the deploy up front): the node's ErrImagePull comes back as a clear failure, and a branch
/// CI has pushed deploys.
/// </summary>
public sealed class KubeletPullTests : IAsyncLifetime
{
    private const string User = "node";
    private const string Password = "kubelet-pass";
    private RegistryServer _registry = default!;
    private DeployHarness _h = default!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync(User, Password);
        _h = await DeployHarness.CreateAsync(startHost: false,
            emulator: o => o.Registry = new() { Host = _registry.Host, PlainHttp = true, Username = User, Password = Password });
        _h.StartHost(new Dictionary<string, string?>
        {
            ["Apps:Items:0:ImageRepository"] = $"{_registry.Host}/shop/storefront",
            ["Apps:Items:1:ImageRepository"] = $"{_registry.Host}/shop/payments",
        });
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        await _registry.DisposeAsync();
    }

    [Fact]
    public async Task A_missing_image_fails_the_rollout_with_the_nodes_pull_error_and_a_pushed_one_deploys()
    {
        var failed = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-2")).Id);

        Assert.Equal(DeploymentState.Failed, failed.State);
        Assert.Matches($@"^The image {System.Text.RegularExpressions.Regex.Escape(_registry.Host)}/shop/payments:main could not be pulled \((ErrImagePull\): the registry has no such image|ImagePullBackOff\))\. Has CI built and pushed this branch yet\?",
            failed.FailureReason!);

        await _registry.PushAsync("shop/storefront", "main", DateTimeOffset.UtcNow);
        var done = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "storefront", "main", "qa-1")).Id);
        Assert.Equal(DeploymentState.Succeeded, done.State);
    }
}

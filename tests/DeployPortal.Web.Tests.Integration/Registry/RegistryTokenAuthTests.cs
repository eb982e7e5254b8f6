using DeployPortal.Web.Registry;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Registry;

/// <summary>
/// The bearer-token flow (Docker Hub, GHCR, GitLab, Harbor) against Debian's real registry in token mode: the registry
/// answers 401 with <c>Bearer realm=…,service=…,scope=…</c>, the client fetches a token from the realm with its
/// credentials, and the registry verifies the token's signature against its certificate bundle.
/// </summary>
public sealed class RegistryTokenAuthTests : IAsyncLifetime
{
    private RegistryTokenServer _tokens = default!;
    private RegistryServer _registry = default!;

    public async Task InitializeAsync()
    {
        _tokens = await RegistryTokenServer.StartAsync("robot", "token-pass");
        _registry = await RegistryServer.StartAsync(tokens: _tokens);
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        await _tokens.DisposeAsync();
    }

    [Fact]
    public async Task With_credentials_the_client_gets_a_token_from_the_realm_and_finds_the_image()
    {
        var pushed = await _registry.PushIndexAsync("shop/storefront", "feature-login", DateTimeOffset.UtcNow.AddMinutes(-2));
        await using var harness = new RegistryHarness(RegistryHarness.For(_registry.Host, "robot", "token-pass"));

        var described = await harness.Images.DescribeAsync($"{_registry.Host}/shop/storefront:feature-login");
        var resolved = await harness.Images.ResolveAsync($"{_registry.Host}/shop/storefront:feature-login");

        Assert.Equal(ImageStatus.Found, described!.Status);
        Assert.Equal(pushed.Digest, described.Digest);
        Assert.Equal(pushed.Created, described.PushedAt);
        Assert.Equal(pushed.Digest, resolved!.Digest);
        Assert.True(_tokens.Issued >= 1);
    }

    [Theory]
    [InlineData("wrong-pass")]
    [InlineData(null)]
    public async Task Without_the_right_credentials_the_token_service_says_no_and_the_lookup_is_refused(string? password)
    {
        await _registry.PushAsync("shop/storefront", "main", DateTimeOffset.UtcNow);
        await using var harness = new RegistryHarness(RegistryHarness.For(_registry.Host, password is null ? null : "robot", password));

        var lookup = await harness.Images.DescribeAsync($"{_registry.Host}/shop/storefront:main");

        Assert.Equal(ImageStatus.Refused, lookup!.Status);
        Assert.Equal(0, _tokens.Issued);
    }
}

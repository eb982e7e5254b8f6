using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DeployPortal.Web.Registry;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Registry;

/// <summary>The registry client against Debian's real distribution registry on loopback, with htpasswd auth.</summary>
public sealed class RegistryClientTests : IAsyncLifetime
{
    private const string User = "ci";
    private const string Password = "s3cret-pass";
    private RegistryServer _registry = default!;

    public async Task InitializeAsync() => _registry = await RegistryServer.StartAsync(User, Password);

    public async Task DisposeAsync() => await _registry.DisposeAsync();

    [Fact]
    public async Task A_pushed_tag_is_found_with_its_digest_and_build_time()
    {
        var created = new DateTimeOffset(2026, 12, 4, 10, 15, 0, TimeSpan.Zero);
        var pushed = await _registry.PushAsync("shop/storefront", "feature-login-175b444", created);
        await using var harness = new RegistryHarness(RegistryHarness.For(_registry.Host, User, Password));
        var image = $"{_registry.Host}/shop/storefront:feature-login-175b444";

        var described = await harness.Images.DescribeAsync(image);
        var resolved = await harness.Images.ResolveAsync(image);

        Assert.Equal(ImageStatus.Found, described!.Status);
        Assert.Equal(pushed.Digest, described.Digest);
        Assert.Equal(created, described.PushedAt);
        Assert.Equal(pushed.Digest, resolved!.Digest);
    }

    [Fact]
    public async Task A_multi_arch_index_resolves_to_the_index_digest_and_the_amd64_build_time()
    {
        var created = new DateTimeOffset(2026, 12, 4, 9, 0, 0, TimeSpan.Zero);
        var pushed = await _registry.PushIndexAsync("shop/payments", "main", created);
        await using var harness = new RegistryHarness(RegistryHarness.For(_registry.Host, User, Password));

        var described = await harness.Images.DescribeAsync($"{_registry.Host}/shop/payments:main");
        var resolved = await harness.Images.ResolveAsync($"{_registry.Host}/shop/payments:main");

        Assert.Equal(pushed.Digest, described!.Digest);
        Assert.Equal(created, described.PushedAt);
        Assert.Equal(pushed.Digest, resolved!.Digest);
    }

    [Fact]
    public async Task A_tag_not_pushed_yet_is_missing_and_says_so()
    {
        await _registry.PushAsync("shop/storefront", "main", DateTimeOffset.UtcNow);
        await using var harness = new RegistryHarness(RegistryHarness.For(_registry.Host, User, Password));

        var tag = await harness.Images.DescribeAsync($"{_registry.Host}/shop/storefront:feature-new-0000000");
        var repository = await harness.Images.ResolveAsync($"{_registry.Host}/shop/never-pushed:main");

        Assert.Equal(ImageStatus.Missing, tag!.Status);
        Assert.Contains("not built yet", tag.Problem);
        Assert.Equal(ImageStatus.Missing, repository!.Status);
    }

    [Theory]
    [InlineData("wrong-password")]
    [InlineData(null)]
    public async Task Wrong_or_missing_credentials_are_refused_with_a_clear_reason(string? password)
    {
        await _registry.PushAsync("shop/storefront", "main", DateTimeOffset.UtcNow);
        await using var harness = new RegistryHarness(RegistryHarness.For(_registry.Host, password is null ? null : User, password));

        var lookup = await harness.Images.DescribeAsync($"{_registry.Host}/shop/storefront:main");

        Assert.Equal(ImageStatus.Refused, lookup!.Status);
        Assert.Contains($"{_registry.Host} refused the portal's credentials", lookup.Problem);
    }

    [Fact]
    public async Task A_registry_that_is_down_gives_a_clear_error()
    {
        await _registry.PushAsync("shop/storefront", "main", DateTimeOffset.UtcNow);
        await using var harness = new RegistryHarness(RegistryHarness.For(_registry.Host, User, Password));
        await _registry.StopAsync();

        var down = await harness.Images.DescribeAsync($"{_registry.Host}/shop/storefront:main");

        Assert.Equal(ImageStatus.Unavailable, down!.Status);
        Assert.Contains($"The registry {_registry.Host} could not be reached", down.Problem);
    }

    [Fact]
    public async Task A_registry_that_never_answers_gives_a_clear_error_within_the_timeout()
    {
        // A listener that accepts connections and never answers: a hung registry or a black-holing proxy.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(backlog: 64);
        var host = $"127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        await using var harness = new RegistryHarness(RegistryHarness.For(host));

        var clock = Stopwatch.StartNew();
        var slow = await harness.Images.DescribeAsync($"{host}/shop/storefront:main");

        Assert.Equal(ImageStatus.Unavailable, slow!.Status);
        Assert.Equal($"The registry {host} did not answer within 2 s.", slow.Problem);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Without_a_registry_for_the_host_nothing_is_checked()
    {
        await using var harness = new RegistryHarness(RegistryHarness.For(_registry.Host, User, Password));

        Assert.Null(await harness.Images.DescribeAsync("registry.example.com/shop/storefront:main"));
        Assert.False(harness.Images.IsEnabledFor("nginx:1.27"));
    }
}

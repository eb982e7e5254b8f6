using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using DeployPortal.Web.Registry;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Registry;

/// <summary>CI asks the portal what the registry holds before deploying, and a deploy of an image not built is refused.</summary>
public sealed class ImagePreflightApiTests : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private RegistryServer _registry = default!;
    private DeployHarness _h = default!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync("ci", "api-pass");
        _h = await DeployHarness.CreateAsync(startHost: false);
        _h.StartHost(new Dictionary<string, string?>(RegistryHarness.For(_registry.Host, "ci", "api-pass"))
        {
            ["Apps:Items:0:ImageRepository"] = $"{_registry.Host}/shop/storefront",
            ["Apps:Items:0:TagTemplate"] = "{branchSlug}-{shortSha}",
            ["Apps:Items:1:ImageRepository"] = $"{_registry.Host}/shop/payments",
        });
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        await _registry.DisposeAsync();
    }

    [Fact]
    public async Task The_preflight_says_pushed_when_with_the_digest_or_not_built_yet_and_a_deploy_of_a_missing_image_is_refused()
    {
        using var ci = await ClientAsync();
        var branches = await ci.GetFromJsonAsync<List<JsonElement>>("/api/v1/apps/storefront/branches", Json);
        var commit = branches!.Single(b => b.GetProperty("name").GetString() == "feature/login").GetProperty("commit").GetString()!;
        var tag = $"feature-login-{commit[..8]}";
        var pushed = await _registry.PushAsync("shop/storefront", tag, DateTimeOffset.UtcNow.AddMinutes(-4));

        var found = await ci.GetFromJsonAsync<ImagePreflightView>("/api/v1/apps/storefront/image?branch=feature/login", Json);
        var missing = await ci.GetFromJsonAsync<ImagePreflightView>("/api/v1/apps/payments/image?branch=main", Json);
        var noBranch = await ci.GetAsync("/api/v1/apps/storefront/image?branch=feature-nope");
        var refused = await ci.PostAsJsonAsync("/api/v1/deployments", new { app = "payments", branch = "main", slot = "qa-1", purpose = "ci run" });

        Assert.Equal(ImageStatus.Found, found!.Status);
        Assert.Equal(pushed.Digest, found.Digest);
        Assert.Equal($"image {_registry.Host}/shop/storefront:{tag} — pushed 4 min ago ({ImageLookup.Short(pushed.Digest)})", found.Sentence);
        Assert.Equal(ImageStatus.Missing, missing!.Status);
        Assert.Equal($"image {_registry.Host}/shop/payments:main — not built yet", missing.Sentence);
        Assert.Equal(HttpStatusCode.NotFound, noBranch.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("is not built yet", await refused.Content.ReadAsStringAsync());
    }

    private Task<HttpClient> ClientAsync() => _h.Host.TokenClientAsync(TestUsers.Dana);
}

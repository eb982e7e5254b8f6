using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Tests.Auth;

/// <summary>OpenID Connect settings that cannot work are refused when the portal starts, naming the setting.</summary>
public sealed class OidcConfigurationTests
{
    private static Dictionary<string, string?> Oidc(string authority, params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:DevSignIn:Enabled"] = "false",
            ["Auth:Oidc:Enabled"] = "true",
            ["Auth:Oidc:Authority"] = authority,
            ["Auth:Oidc:ClientId"] = "deployportal",
            ["Auth:Oidc:ClientSecret"] = "secret",
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public void PlainHttpAuthority_WhileHttpsMetadataIsRequired_IsRefusedAtStart_NamingBothSettings()
    {
        using var host = new PortalHost(environment: "Production", settings: Oidc("http://idp.example.com/realms/dev"));

        var error = Assert.ThrowsAny<Exception>(() => host.Start());

        var message = (error as OptionsValidationException ?? error.InnerException as OptionsValidationException)?.Message;
        Assert.NotNull(message);
        Assert.Contains("Auth:Oidc:Authority", message);
        Assert.Contains("Auth:Oidc:RequireHttpsMetadata", message);
    }

    [Fact]
    public void MissingClientSecret_IsRefusedAtStart()
    {
        using var host = new PortalHost(settings: Oidc("https://idp.example.com/realms/dev", ("Auth:Oidc:ClientSecret", "")));

        var error = Assert.ThrowsAny<Exception>(() => host.Start());

        Assert.Contains("Auth:Oidc:ClientSecret", error.ToString());
    }

    [Fact]
    public void UnreachableAuthority_StopsTheStart_NamingTheSettingAndTheAddress()
    {
        var closed = $"http://127.0.0.1:{PortalHost.FreePort()}/realms/dev";
        using var host = new PortalHost(settings: Oidc(closed, ("Auth:Oidc:RequireHttpsMetadata", "false"), ("Auth:Oidc:DiscoveryTimeout", "00:00:02")));

        var error = Assert.ThrowsAny<Exception>(() => host.Start());

        var message = error.ToString();
        Assert.Contains("Auth:Oidc:Authority", message);
        Assert.Contains(closed, message);
    }
}

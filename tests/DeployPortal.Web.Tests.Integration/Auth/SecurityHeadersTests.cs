using System.Text.RegularExpressions;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Tests.Auth;

public sealed partial class SecurityHeadersTests
{
    [Fact]
    public async Task Pages_CarryAStrictContentSecurityPolicy_WhoseNonceIsOnTheImportMap()
    {
        using var host = new PortalHost();
        using var client = host.CreateLoopbackClient();

        var response = await client.GetAsync("/signin");
        var html = await response.Content.ReadAsStringAsync();

        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("object-src 'none'", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.DoesNotContain("script-src 'self' 'unsafe-inline'", csp);
        var nonce = NoncePattern().Match(csp).Groups[1].Value;
        Assert.NotEmpty(nonce);
        Assert.Contains($"nonce=\"{nonce}\"", Regex.Match(html, "<script type=\"importmap\"[^>]*>").Value);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());

        var again = await client.GetAsync("/signin");
        Assert.NotEqual(nonce, NoncePattern().Match(again.Headers.GetValues("Content-Security-Policy").Single()).Groups[1].Value);
    }

    [Fact]
    public void Cookies_OutsideDevelopment_AreHostPrefixedAndSecure()
    {
        using var host = new PortalHost(environment: "Staging");
        host.Start();

        var auth = host.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(CookieAuthenticationDefaults.AuthenticationScheme).Cookie;
        var antiforgery = host.Services.GetRequiredService<IOptions<AntiforgeryOptions>>().Value.Cookie;

        Assert.Equal(("__Host-deployportal.auth", Microsoft.AspNetCore.Http.CookieSecurePolicy.Always), (auth.Name, auth.SecurePolicy));
        Assert.Equal(("__Host-deployportal.antiforgery", Microsoft.AspNetCore.Http.CookieSecurePolicy.Always), (antiforgery.Name, antiforgery.SecurePolicy));
        Assert.True(auth.HttpOnly);
    }

    [GeneratedRegex("script-src 'self' 'nonce-([^']+)'")]
    private static partial Regex NoncePattern();
}

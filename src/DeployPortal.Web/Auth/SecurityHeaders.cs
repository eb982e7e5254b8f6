using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Auth;

/// <summary>
/// Response headers that limit what a page may load and who may frame it. The policy is the strictest
/// that Blazor Server and MudBlazor run under: scripts only from this origin or with this response's nonce
/// (the import map, the API reference page), styles inline too (MudBlazor writes style attributes and a
/// theme &lt;style&gt;), the circuit's WebSocket on this origin, no framing by anyone.
/// </summary>
internal static class SecurityHeaders
{
    private const string NonceKey = "deployportal.csp-nonce";

    /// <summary>The nonce the current response's Content-Security-Policy allows for inline scripts.</summary>
    public static string CspNonce(this HttpContext http) => (string)(http.Items[NonceKey] ??= NewNonce());

    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        // Sign-out posts a form that the identity provider's end-session endpoint answers by redirect;
        // browsers check form-action along redirects, so the provider's origin must be allowed there.
        var oidc = app.Services.GetRequiredService<IOptions<OidcSignInOptions>>().Value;
        var formTargets = "'self'";
        if (oidc.Enabled && Uri.TryCreate(oidc.Authority, UriKind.Absolute, out var authority))
        {
            formTargets += " " + authority.GetLeftPart(UriPartial.Authority);
        }

        app.Use((http, next) =>
        {
            var nonce = http.CspNonce();
            http.Response.OnStarting(() =>
            {
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy =
                    $"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
                    + "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
                    + $"base-uri 'self'; form-action {formTargets}; frame-ancestors 'none'";
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                return Task.CompletedTask;
            });
            return next(http);
        });
        return app;
    }

    // Hex, so the value reads the same in the header and, unescaped, in HTML attributes.
    private static string NewNonce() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
}

using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace DeployPortal.Web.Auth;

/// <summary>
/// Reads the identity provider's discovery document before the portal accepts requests, so a wrong or unreachable
/// authority stops the start with a sentence naming the setting, instead of a portal that reports healthy and then
/// fails every sign-in.
/// </summary>
internal sealed class OidcDiscoveryCheck(
    IOptionsMonitor<OpenIdConnectOptions> oidcOptions,
    IOptions<OidcSignInOptions> signIn,
    ILogger<OidcDiscoveryCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var configuration = await OidcDiscovery.ReadAsync(oidcOptions.Get(AuthExtensions.OidcScheme), signIn.Value, cancellationToken);
        logger.LogInformation("Signing in through {Issuer}", configuration.Issuer);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

internal static class OidcDiscovery
{
    /// <summary>The provider's configuration within <c>Auth:Oidc:DiscoveryTimeout</c>, or an exception that names the setting.</summary>
    public static async Task<OpenIdConnectConfiguration> ReadAsync(OpenIdConnectOptions options, OidcSignInOptions signIn, CancellationToken ct)
    {
        var where = options.MetadataAddress ?? signIn.Authority;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(signIn.DiscoveryTimeout);
        try
        {
            return await options.ConfigurationManager!.GetConfigurationAsync(timeout.Token);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            var setting = signIn.MetadataAddress is null ? "Auth:Oidc:Authority" : "Auth:Oidc:MetadataAddress";
            throw new InvalidOperationException(
                $"Could not read the identity provider's discovery document from {where} within {signIn.DiscoveryTimeout.TotalSeconds:0} s. "
                + $"Check {setting} (and that the provider is up): {Innermost(ex).Message}", ex);
        }
    }

    private static Exception Innermost(Exception ex) => ex.InnerException is { } inner ? Innermost(inner) : ex;
}

/// <summary>Operator log lines for sign-ins that did not complete, naming the setting most likely at fault.</summary>
internal static class OidcFailures
{
    public static void Log(HttpContext http, Exception? failure)
    {
        var message = failure?.ToString() ?? "";
        var likely = message switch
        {
            _ when message.Contains("invalid_client", StringComparison.Ordinal) || message.Contains("unauthorized_client", StringComparison.Ordinal)
                => "Auth:Oidc:ClientId and Auth:Oidc:ClientSecret (the provider did not accept the client)",
            _ when message.Contains("redirect_uri", StringComparison.Ordinal)
                => "the redirect URI registered at the provider (it must be this portal's /signin-oidc)",
            _ when message.Contains("Correlation failed", StringComparison.Ordinal) || message.Contains("nonce", StringComparison.OrdinalIgnoreCase)
                => "cookies: the browser did not send the sign-in cookies back (plain HTTP without Auth:PlainHttp:AllowOnLoopback, or a proxy changing the host)",
            _ when message.Contains("IDX10205", StringComparison.Ordinal) || message.Contains("issuer", StringComparison.OrdinalIgnoreCase)
                => "Auth:Oidc:Authority (it must be the issuer the provider puts in its tokens)",
            _ when message.Contains("IDX10214", StringComparison.Ordinal) || message.Contains("audience", StringComparison.OrdinalIgnoreCase)
                => "Auth:Oidc:ClientId (the tokens are for another client)",
            _ when message.Contains("access_denied", StringComparison.Ordinal)
                => "nothing: the person declined, or the provider refused them",
            _ => "Auth:Oidc:Authority, Auth:Oidc:ClientId and Auth:Oidc:ClientSecret",
        };
        http.RequestServices.GetRequiredService<ILogger<OidcSignInOptions>>().LogWarning(
            "OpenID Connect sign-in did not complete (request {RequestId}); the likely setting: {Likely}. {Failure}",
            http.TraceIdentifier, likely, failure?.Message);
    }
}

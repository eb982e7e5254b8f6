using System.Net;
using System.Text.Json.Serialization;

namespace DeployPortal.Web.Registry;

/// <summary>
/// The token flow of the distribution spec: <c>GET realm?service=…&amp;scope=repository:NAME:pull</c>, with Basic
/// credentials when the portal has some (anonymous otherwise, as public images on Docker Hub and GHCR allow).
/// </summary>
internal sealed class RegistryTokens(IHttpClientFactory http, ILogger<RegistryTokens> logger)
{
    public const string HttpClientName = "registry-token";

    public sealed record Answer(string Token, TimeSpan Lifetime);

    /// <returns>null when the token service refused (401/403): the caller reports the registry's refusal.</returns>
    public async Task<Answer?> GetAsync(RegistryChallenge challenge, RegistryCredential? credential, string fallbackScope, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, challenge.TokenUri(fallbackScope));
        if (credential is not null)
        {
            request.Headers.Authorization = RegistryChallenge.Basic(credential);
        }

        using var response = await http.CreateClient(HttpClientName).SendAsync(request, ct);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            logger.LogWarning("The token service {Realm} refused a token for {Scope}: {Status}", challenge.Realm, challenge.Scope, (int)response.StatusCode);
            return null;
        }

        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<TokenBody>(ct);
        var token = body?.Token ?? body?.AccessToken;
        if (string.IsNullOrEmpty(token))
        {
            throw new HttpRequestException($"The token service {challenge.Realm} answered without a token.");
        }

        // The spec's default lifetime is 60 s; reuse a token a little less long than it lives.
        var seconds = Math.Max(body!.ExpiresIn is > 0 ? body.ExpiresIn.Value : 60, 20) - 10;
        return new Answer(token, TimeSpan.FromSeconds(seconds));
    }

    private sealed record TokenBody(
        [property: JsonPropertyName("token")] string? Token,
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("expires_in")] int? ExpiresIn);
}

using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace DeployPortal.Web.Auth;

/// <summary>
/// What the portal keeps of the identity provider's tokens, and the claims it reads from userinfo. Shared by the
/// sign-in (<see cref="AuthExtensions"/>) and the refresh (<see cref="SessionRefresher"/>), so both read claims and
/// time tokens the same way.
/// </summary>
internal static class OidcTokens
{
    private const string RefreshAtItem = ".portal.refresh_at";

    public static DateTimeOffset? ExpiresAt(AuthenticationProperties properties) => Read(properties.GetTokenValue("expires_at"));

    /// <summary>When the tokens are due for a refresh; null when there is nothing to refresh with.</summary>
    public static DateTimeOffset? RefreshAt(AuthenticationProperties properties) =>
        properties.GetTokenValue("refresh_token") is null ? null : Read(properties.Items.TryGetValue(RefreshAtItem, out var at) ? at : null);

    /// <summary>
    /// Records the tokens' lifetime and when to refresh them: half-way through their lifetime, or
    /// <paramref name="refreshBefore"/> ahead of their end when that is later. Never earlier than needed (a provider's
    /// 2-minute tokens are refreshed once a minute, an hour's once in 55 minutes), and with time for a second try if
    /// the provider is briefly away.
    /// </summary>
    public static void Stamp(AuthenticationProperties properties, DateTimeOffset now, TimeSpan lifetime, TimeSpan refreshBefore)
    {
        var expires = now + lifetime;
        var before = refreshBefore < lifetime / 2 ? refreshBefore : lifetime / 2;
        var tokens = properties.GetTokens().Where(t => t.Name != "expires_at").ToList();
        tokens.Add(new AuthenticationToken { Name = "expires_at", Value = expires.ToString("o", CultureInfo.InvariantCulture) });
        properties.StoreTokens(tokens);
        properties.Items[RefreshAtItem] = (expires - before).ToString("o", CultureInfo.InvariantCulture);
    }

    /// <summary>The lifetime the token response states, or what the saved <c>expires_at</c> says.</summary>
    public static TimeSpan Lifetime(string? expiresIn, AuthenticationProperties properties, DateTimeOffset now) =>
        int.TryParse(expiresIn, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : ExpiresAt(properties) is { } expires && expires > now ? expires - now : TimeSpan.FromMinutes(5);

    /// <summary>
    /// Reads the userinfo endpoint with <paramref name="accessToken"/> and adds its claims to <paramref name="identity"/>
    /// (arrays as one claim per element, objects as their JSON), skipping claim types the identity already has.
    /// </summary>
    public static async Task AddUserInfoClaimsAsync(OpenIdConnectOptions options, OpenIdConnectConfiguration configuration,
        string accessToken, ClaimsIdentity identity, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(configuration.UserInfoEndpoint))
        {
            throw new InvalidOperationException("The identity provider publishes no userinfo endpoint (Auth:Oidc:UserInfo).");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, configuration.UserInfoEndpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await options.Backchannel.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
        AddJsonClaims(identity, json.RootElement, options.ClaimsIssuer ?? configuration.Issuer);
    }

    public static void AddJsonClaims(ClaimsIdentity identity, JsonElement json, string? issuer)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var present = identity.Claims.Select(c => c.Type).ToHashSet(StringComparer.Ordinal);
        foreach (var property in json.EnumerateObject().Where(p => !present.Contains(p.Name)))
        {
            var values = property.Value.ValueKind == JsonValueKind.Array ? property.Value.EnumerateArray().ToArray() : [property.Value];
            foreach (var value in values.Where(v => v.ValueKind != JsonValueKind.Null))
            {
                identity.AddClaim(new Claim(property.Name, value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText(),
                    value.ValueKind is JsonValueKind.Object or JsonValueKind.Array ? "JSON" : ClaimValueTypes.String, issuer));
            }
        }
    }

    private static DateTimeOffset? Read(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value) ? value : null;
}

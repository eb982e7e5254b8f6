using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;

namespace DeployPortal.Web.Registry;

/// <summary>
/// Answers a registry's 401 the way docker does: Basic with the host's credentials, or Bearer with a token from the
/// challenge's realm for its service and scope (<see cref="RegistryTokens"/>), then sends the request again. The
/// header that worked is reused for the same repository until the token expires, saving the 401 round trip.
/// </summary>
internal sealed class RegistryAuthHandler(RegistryCredentials credentials, RegistryTokens tokens, TimeProvider clock) : DelegatingHandler
{
    private static readonly ConcurrentDictionary<string, (AuthenticationHeaderValue Header, DateTimeOffset Until)> Known = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri!;
        var key = uri.Authority + "/" + RepositoryOf(uri);
        if (Known.TryGetValue(key, out var known) && known.Until > clock.GetUtcNow())
        {
            request.Headers.Authorization = known.Header;
        }

        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized || RegistryChallenge.From(response.Headers) is not { } challenge)
        {
            return response;
        }

        var credential = await credentials.ForAsync(uri.Authority, cancellationToken);
        (AuthenticationHeaderValue Header, TimeSpan Lifetime)? answer = challenge switch
        {
            { IsBasic: true } when credential is not null => (RegistryChallenge.Basic(credential), TimeSpan.FromMinutes(5)),
            { IsBearer: true, Realm: not null } => await tokens.GetAsync(challenge, credential, $"repository:{RepositoryOf(uri)}:pull", cancellationToken) is { } token
                ? (new AuthenticationHeaderValue("Bearer", token.Token), token.Lifetime)
                : null,
            _ => null,
        };
        if (answer is not { } auth)
        {
            return response; // nothing to answer with, or the token service said no: the caller reports the 401
        }

        response.Dispose();
        using var again = new HttpRequestMessage(request.Method, uri);
        foreach (var header in request.Headers)
        {
            again.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        again.Headers.Authorization = auth.Header;
        response = await base.SendAsync(again, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            Known[key] = (auth.Header, clock.GetUtcNow() + auth.Lifetime);
        }

        return response;
    }

    /// <summary><c>shop/web</c> from <c>/v2/shop/web/manifests/tag</c> or <c>/v2/shop/web/blobs/sha256:…</c>.</summary>
    internal static string RepositoryOf(Uri uri)
    {
        var path = uri.AbsolutePath;
        var end = Math.Max(path.LastIndexOf("/manifests/", StringComparison.Ordinal), path.LastIndexOf("/blobs/", StringComparison.Ordinal));
        return path.StartsWith("/v2/", StringComparison.Ordinal) && end > 4 ? path[4..end] : "";
    }
}

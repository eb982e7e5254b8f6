using System.Net.Http.Headers;

namespace DeployPortal.Web.Registry;

/// <summary>
/// A registry's <c>WWW-Authenticate</c> answer: <c>Basic realm="…"</c>, or <c>Bearer realm="https://auth…/token",
/// service="registry.example.com",scope="repository:shop/web:pull"</c> (Docker Hub, GHCR, GitLab, Harbor, distribution).
/// </summary>
internal sealed record RegistryChallenge(string Scheme, string? Realm, string? Service, string? Scope)
{
    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);

    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    public static RegistryChallenge? From(HttpResponseHeaders headers) =>
        headers.WwwAuthenticate.Select(h => Parse(h.Scheme, h.Parameter)).FirstOrDefault(c => c.IsBearer)
        ?? headers.WwwAuthenticate.Select(h => Parse(h.Scheme, h.Parameter)).FirstOrDefault(c => c.IsBasic);

    public static RegistryChallenge Parse(string scheme, string? parameters)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var text = parameters ?? "";
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || char.IsWhiteSpace(text[i])))
            {
                i++;
            }

            var eq = text.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var key = text[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                var end = text.IndexOf('"', i + 1);
                end = end < 0 ? text.Length : end;
                value = text[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                var end = text.IndexOf(',', i);
                end = end < 0 ? text.Length : end;
                value = text[i..end].Trim();
                i = end;
            }

            values[key] = value;
        }

        return new RegistryChallenge(scheme, values.GetValueOrDefault("realm"), values.GetValueOrDefault("service"), values.GetValueOrDefault("scope"));
    }

    public Uri TokenUri(string fallbackScope)
    {
        var query = new List<string>();
        if (Service is { } service)
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }

        query.Add("scope=" + Uri.EscapeDataString(Scope ?? fallbackScope));
        var builder = new UriBuilder(Realm!);
        builder.Query = string.Join('&', new[] { builder.Query.TrimStart('?') }.Where(q => q.Length > 0).Concat(query));
        return builder.Uri;
    }

    internal static AuthenticationHeaderValue Basic(RegistryCredential credential) =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace DeployPortal.KubeEmulator.Controllers;

/// <summary>What a pull of one image found: pulled, or the kubelet's message for why not.</summary>
internal sealed record PullAnswer(bool Pulled, string? Failure = null);

/// <summary>
/// The kubelet's image pull against the configured registry (<see cref="EmulatorOptions.Registry"/>): a <c>HEAD</c> of
/// the manifest, as containerd resolves a reference first. Only images naming that registry's host are looked up; any
/// other image keeps the emulator's naming convention and costs nothing.
/// </summary>
internal sealed class RegistryPuller : IDisposable
{
    private static readonly string[] ManifestTypes =
    [
        "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json",
    ];

    private readonly EmulatorRegistryOptions _options;
    private readonly HttpClient _http;

    public RegistryPuller(EmulatorRegistryOptions options)
    {
        _options = options;
        _http = new HttpClient { Timeout = options.Timeout };
        foreach (var type in ManifestTypes)
        {
            _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        if (options.Username is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}")));
        }
    }

    /// <summary>Whether <paramref name="image"/> names the configured registry (so the kubelet must ask it).</summary>
    public bool Handles(string image) => Parse(image) is { } name && string.Equals(name.Host, _options.Host, StringComparison.OrdinalIgnoreCase);

    public async Task<PullAnswer> PullAsync(string image)
    {
        if (Parse(image) is not { } name)
        {
            return new PullAnswer(false, $"failed to pull and unpack image \"{image}\": invalid reference format");
        }

        var url = $"{(_options.PlainHttp ? "http" : "https")}://{name.Host}/v2/{name.Repository}/manifests/{name.Reference}";
        var prefix = $"rpc error: code = {{0}} desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": ";
        try
        {
            using var response = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url)).ConfigureAwait(false);
            return response.StatusCode switch
            {
                HttpStatusCode.OK => new PullAnswer(true),
                HttpStatusCode.NotFound => new PullAnswer(false, string.Format(prefix, "NotFound") + $"{image}: not found"),
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new PullAnswer(false, string.Format(prefix, "Unknown")
                    + "pull access denied, repository does not exist or may require authorization: authorization failed"),
                var status => new PullAnswer(false, string.Format(prefix, "Unknown") + $"unexpected status from HEAD request to {url}: {(int)status} {status}"),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return new PullAnswer(false, string.Format(prefix, "Unknown") + $"failed to do request: Head \"{url}\": {ex.Message}");
        }
    }

    /// <summary>host, repository and tag or digest, as docker reads a reference; null without a host part.</summary>
    private static (string Host, string Repository, string Reference)? Parse(string image)
    {
        var at = image.IndexOf('@');
        var digest = at >= 0 ? image[(at + 1)..] : null;
        var rest = at >= 0 ? image[..at] : image;
        var colon = rest.LastIndexOf(':');
        var tag = colon > rest.LastIndexOf('/') ? rest[(colon + 1)..] : null;
        rest = tag is null ? rest : rest[..colon];
        var slash = rest.IndexOf('/');
        if (slash < 0)
        {
            return null;
        }

        var host = rest[..slash];
        return host.Contains('.') || host.Contains(':') || host == "localhost" ? (host, rest[(slash + 1)..], digest ?? tag ?? "latest") : null;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>A registry the emulated kubelet pulls from, as a node's container runtime would be configured.</summary>
public sealed class EmulatorRegistryOptions
{
    /// <summary>The host as images name it, e.g. <c>127.0.0.1:5000</c> or <c>registry:5000</c>.</summary>
    public string Host { get; set; } = "";

    /// <summary>Plain HTTP (an "insecure registry"), for a registry on loopback or in compose.</summary>
    public bool PlainHttp { get; set; }

    /// <summary>Basic credentials (htpasswd), as a pull secret would give them; both or neither.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>The longest one pull lookup may take; slower counts as a failed pull.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}

using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Registry;

/// <summary>
/// Asks a registry about one image over the OCI Distribution API. <see cref="ResolveAsync"/> is one HEAD of the
/// manifest (the digest, as a deploy needs it); <see cref="DescribeAsync"/> GETs it, and for a multi-arch index the
/// linux/amd64 manifest, and the image config, for the time the image was built. Every answer, including "down",
/// "refused" and "too slow", comes back as an <see cref="ImageLookup"/> within <see cref="RegistryOptions.Timeout"/>.
/// </summary>
internal sealed class RegistryClient(IHttpClientFactory http, IOptionsMonitor<RegistryOptions> options, ILogger<RegistryClient> logger)
{
    public const string HttpClientName = "registry";
    private const int MaxBody = 4 * 1024 * 1024;

    private static readonly string[] ManifestTypes =
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ];

    public Task<ImageLookup> ResolveAsync(string image, CancellationToken ct) => AskAsync(image, ct, async (client, name, token) =>
    {
        using var response = await SendAsync(client, HttpMethod.Head, ManifestUri(name, name.Reference), token);
        return Judge(image, name, response) ?? new ImageLookup(image, ImageStatus.Found, DigestOf(response, null));
    });

    public Task<ImageLookup> DescribeAsync(string image, CancellationToken ct) => AskAsync(image, ct, async (client, name, token) =>
    {
        using var response = await SendAsync(client, HttpMethod.Get, ManifestUri(name, name.Reference), token);
        if (Judge(image, name, response) is { } notFound)
        {
            return notFound;
        }

        var body = await ReadAsync(response, token);
        var digest = DigestOf(response, body);
        return new ImageLookup(image, ImageStatus.Found, digest, await CreatedAsync(client, name, body, token));
    });

    private async Task<ImageLookup> AskAsync(string image, CancellationToken ct, Func<HttpClient, ImageName, CancellationToken, Task<ImageLookup>> ask)
    {
        var o = options.CurrentValue;
        var name = ImageName.Parse(image);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(o.Timeout);
        try
        {
            return await ask(http.CreateClient(HttpClientName), name, deadline.Token);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && ex is OperationCanceledException or Polly.Timeout.TimeoutRejectedException)
        {
            return new ImageLookup(image, ImageStatus.Unavailable, Problem: $"The registry {name.Host} did not answer within {o.Timeout.TotalSeconds:0.#} s.");
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or InvalidOperationException)
        {
            logger.LogWarning(ex, "Looking up {Image} failed", image);
            return new ImageLookup(image, ImageStatus.Unavailable, Problem: $"The registry {name.Host} could not be reached: {ex.Message}");
        }
    }

    /// <summary>Null when the answer is a manifest; otherwise what the status code means for a person.</summary>
    private static ImageLookup? Judge(string image, ImageName name, HttpResponseMessage response) => response.StatusCode switch
    {
        _ when response.IsSuccessStatusCode => null,
        HttpStatusCode.NotFound => new ImageLookup(image, ImageStatus.Missing, Problem: $"{image} is not built yet: the registry has no such tag."),
        HttpStatusCode.Unauthorized => new ImageLookup(image, ImageStatus.Refused,
            Problem: $"The registry {name.Host} refused the portal's credentials for {name.Repository} (401). Check Registry:Registries for {name.Host}."),
        HttpStatusCode.Forbidden => new ImageLookup(image, ImageStatus.Refused,
            Problem: $"The registry {name.Host} does not let the portal read {name.Repository} (403)."),
        _ => throw new HttpRequestException($"it answered {(int)response.StatusCode} {response.ReasonPhrase}"),
    };

    private async Task<DateTimeOffset?> CreatedAsync(HttpClient client, ImageName name, byte[] manifest, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(manifest);
        var root = doc.RootElement;
        if (root.TryGetProperty("manifests", out var list) && list.ValueKind == JsonValueKind.Array && PickPlatform(list) is { } child)
        {
            using var response = await SendAsync(client, HttpMethod.Get, ManifestUri(name, child), ct);
            return response.IsSuccessStatusCode ? await CreatedAsync(client, name, await ReadAsync(response, ct), ct) : null;
        }

        if (!root.TryGetProperty("config", out var config) || !config.TryGetProperty("digest", out var configDigest))
        {
            return null;
        }

        using var blob = await SendAsync(client, HttpMethod.Get, new Uri(BaseUri(name), $"v2/{name.Repository}/blobs/{configDigest.GetString()}"), ct);
        if (!blob.IsSuccessStatusCode)
        {
            return null;
        }

        using var configDoc = JsonDocument.Parse(await ReadAsync(blob, ct));
        return configDoc.RootElement.TryGetProperty("created", out var created) && created.TryGetDateTimeOffset(out var at) ? at : null;
    }

    /// <summary>The linux/amd64 entry of an index (what the cluster's nodes run), else the first.</summary>
    private static string? PickPlatform(JsonElement manifests)
    {
        string? first = null;
        foreach (var m in manifests.EnumerateArray())
        {
            var digest = m.TryGetProperty("digest", out var d) ? d.GetString() : null;
            first ??= digest;
            if (m.TryGetProperty("platform", out var p) && p.TryGetProperty("os", out var os) && os.GetString() == "linux"
                && p.TryGetProperty("architecture", out var arch) && arch.GetString() == "amd64")
            {
                return digest;
            }
        }

        return first;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, Uri uri, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, uri);
        foreach (var type in ManifestTypes)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    private static async Task<byte[]> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength > MaxBody)
        {
            throw new InvalidOperationException($"a manifest of {response.Content.Headers.ContentLength} bytes is larger than the portal reads");
        }

        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    /// <summary>The registry's <c>Docker-Content-Digest</c>, else the sha256 of the manifest as served (the spec's definition).</summary>
    private static string DigestOf(HttpResponseMessage response, byte[]? body) =>
        response.Headers.TryGetValues("Docker-Content-Digest", out var values) && values.FirstOrDefault() is { Length: > 0 } digest
            ? digest
            : body is not null ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body))
            : throw new InvalidOperationException("the registry named no digest for the manifest");

    private Uri BaseUri(ImageName name)
    {
        var plain = options.CurrentValue.For(name.Host)?.PlainHttp == true;
        return new Uri($"{(plain ? "http" : "https")}://{ImageName.ApiHost(name.Host)}/");
    }

    private Uri ManifestUri(ImageName name, string reference) => new(BaseUri(name), $"v2/{name.Repository}/manifests/{reference}");
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>One image as pushed: the digest of its manifest (or index) and of its config.</summary>
public sealed record PushedImage(string Repository, string Tag, string Digest, DateTimeOffset Created);

/// <summary>
/// Debian's <c>docker-registry</c> (the CNCF distribution registry) on a free loopback port, with filesystem storage in
/// a temp folder and, when a user is given, htpasswd auth (bcrypt, computed here). Images are pushed through the
/// registry's own HTTP API (blob uploads and manifest PUTs), so no Docker engine is needed. tests/lib/test-env.sh
/// installs the package; the process is stopped by its id on dispose.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    public const string Binary = "/usr/bin/docker-registry";
    private readonly Process _process;
    private readonly string _folder;
    private readonly HttpClient _http;
    private readonly StringBuilder _output = new();

    private RegistryServer(Process process, string folder, int port, string? user, string? password, RegistryTokenServer? tokens)
    {
        _process = process;
        _folder = folder;
        Port = port;
        _http = new HttpClient(tokens is null ? new HttpClientHandler() : new MintingHandler(tokens))
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        if (user is not null && tokens is null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }
    }

    public int Port { get; }

    /// <summary>As image references name it: <c>127.0.0.1:PORT</c>.</summary>
    public string Host => $"127.0.0.1:{Port}";

    /// <param name="tokens">Token auth instead of htpasswd: the registry trusts tokens this server signs.</param>
    /// <param name="notify">Where the registry sends its push notifications (its <c>notifications.endpoints</c>), with the bearer secret it sends along.</param>
    public static async Task<RegistryServer> StartAsync(string? user = null, string? password = null, RegistryTokenServer? tokens = null, (Uri Url, string Token)? notify = null)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: tests/run.sh installs Debian's docker-registry package.");
        }

        var folder = Directory.CreateTempSubdirectory("deployportal-registry-").FullName;
        var config = new StringBuilder($"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {folder}/data
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:PORT

            """);
        if (tokens is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "token-signer.pem"), tokens.CertificatePem);
            config.Append($"""
                auth:
                  token:
                    realm: {tokens.Realm}
                    service: {RegistryTokenServer.Service}
                    issuer: {RegistryTokenServer.Issuer}
                    rootcertbundle: {folder}/token-signer.pem

                """);
        }
        else if (user is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "htpasswd"), $"{user}:{BCrypt.Net.BCrypt.HashPassword(password, 5)}\n");
            config.Append($"""
                auth:
                  htpasswd:
                    realm: deployportal-test
                    path: {folder}/htpasswd

                """);
        }

        if (notify is { } endpoint)
        {
            config.Append($$"""
                notifications:
                  endpoints:
                    - name: portal
                      url: {{endpoint.Url}}
                      headers:
                        Authorization: [Bearer {{endpoint.Token}}]
                      timeout: 2s
                      threshold: 3
                      backoff: 1s

                """);
        }

        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var file = Path.Combine(folder, "config.yml");
            await File.WriteAllTextAsync(file, config.ToString().Replace("PORT", port.ToString(), StringComparison.Ordinal));
            var info = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add("serve");
            info.ArgumentList.Add(file);
            var process = Process.Start(info)!;
            var server = new RegistryServer(process, folder, port, user, password, tokens);
            process.OutputDataReceived += (_, e) => server.Log(e.Data);
            process.ErrorDataReceived += (_, e) => server.Log(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (await server.WaitUntilListeningAsync())
            {
                return server;
            }

            await server.StopAsync(deleteFolder: false);
            if (attempt == 3)
            {
                throw new InvalidOperationException($"docker-registry did not start: {server.Output}");
            }
        }
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Pushes a single-platform image (one small layer, a config with <paramref name="created"/>) as <paramref name="tag"/>.</summary>
    public async Task<PushedImage> PushAsync(string repository, string tag, DateTimeOffset created, string architecture = "amd64")
    {
        var (digest, _) = await PushManifestAsync(repository, tag, created, architecture);
        return new PushedImage(repository, tag, digest, created);
    }

    /// <summary>Pushes a multi-arch OCI index (linux/arm64 first, then linux/amd64) as <paramref name="tag"/>; Created is the amd64 image's.</summary>
    public async Task<PushedImage> PushIndexAsync(string repository, string tag, DateTimeOffset amd64Created)
    {
        var (arm, armSize) = await PushManifestAsync(repository, null, amd64Created.AddDays(-3), "arm64");
        var (amd, amdSize) = await PushManifestAsync(repository, null, amd64Created, "amd64");
        var index = Json(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.index.v1+json",
            manifests = new object[]
            {
                new { mediaType = "application/vnd.oci.image.manifest.v1+json", digest = arm, size = armSize, platform = new { os = "linux", architecture = "arm64" } },
                new { mediaType = "application/vnd.oci.image.manifest.v1+json", digest = amd, size = amdSize, platform = new { os = "linux", architecture = "amd64" } },
            },
        });
        var digest = await PutManifestAsync(repository, tag, index, "application/vnd.oci.image.index.v1+json");
        return new PushedImage(repository, tag, digest, amd64Created);
    }

    /// <summary>Stops the registry by its process id (as a crashed registry would vanish) but keeps its storage.</summary>
    public Task StopAsync() => StopAsync(deleteFolder: false);

    public async ValueTask DisposeAsync()
    {
        await StopAsync(deleteFolder: true);
        _http.Dispose();
    }

    private async Task<(string Digest, long Size)> PushManifestAsync(string repository, string? tag, DateTimeOffset created, string architecture)
    {
        var layer = RandomNumberGenerator.GetBytes(64);
        var config = Json(new { created = created.ToString("O"), architecture, os = "linux", rootfs = new { type = "layers", diff_ids = new[] { Sha(layer) } }, config = new { } });
        await PushBlobAsync(repository, layer);
        await PushBlobAsync(repository, config);
        var manifest = Json(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.manifest.v1+json",
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = Sha(config), size = config.Length },
            layers = new[] { new { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = Sha(layer), size = layer.Length } },
        });
        var digest = await PutManifestAsync(repository, tag ?? Sha(manifest), manifest, "application/vnd.oci.image.manifest.v1+json");
        return (digest, manifest.Length);
    }

    private async Task PushBlobAsync(string repository, byte[] blob)
    {
        using var start = await _http.PostAsync($"v2/{repository}/blobs/uploads/", null);
        Expect(start, HttpStatusCode.Accepted);
        var location = start.Headers.Location!;
        var upload = location.IsAbsoluteUri ? location : new Uri(_http.BaseAddress!, location);
        var separator = upload.Query.Length > 0 ? "&" : "?";
        using var put = await _http.PutAsync(new Uri(upload + separator + "digest=" + Uri.EscapeDataString(Sha(blob))), new ByteArrayContent(blob));
        Expect(put, HttpStatusCode.Created);
    }

    private async Task<string> PutManifestAsync(string repository, string reference, byte[] body, string mediaType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var put = await _http.PutAsync($"v2/{repository}/manifests/{reference}", content);
        Expect(put, HttpStatusCode.Created);
        return put.Headers.GetValues("Docker-Content-Digest").Single();
    }

    private static void Expect(HttpResponseMessage response, HttpStatusCode status)
    {
        if (response.StatusCode != status)
        {
            throw new InvalidOperationException($"The registry answered {(int)response.StatusCode} to {response.RequestMessage!.Method} {response.RequestMessage.RequestUri}: "
                + response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        }
    }

    private static byte[] Json(object value) => JsonSerializer.SerializeToUtf8Bytes(value);

    private static string Sha(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    private async Task<bool> WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var response = await probe.GetAsync($"http://127.0.0.1:{Port}/v2/");
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        return false;
    }

    private async Task StopAsync(bool deleteFolder)
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        if (deleteFolder)
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private void Log(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>Sends the tests' own pushes with a token for pull and push on the repository the request names.</summary>
    private sealed class MintingHandler(RegistryTokenServer tokens) : DelegatingHandler(new HttpClientHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            var end = Math.Max(path.LastIndexOf("/manifests/", StringComparison.Ordinal), path.LastIndexOf("/blobs/", StringComparison.Ordinal));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.Mint($"repository:{path[4..end]}:pull,push"));
            return base.SendAsync(request, cancellationToken);
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace DeployPortal.KubeEmulator.Tests;

/// <summary>
/// Debian's real distribution registry (<c>docker-registry</c>) on 127.0.0.1 without auth, and pushes of tiny images
/// through its HTTP API (blob uploads and a manifest PUT), as CI would push them.
/// </summary>
internal sealed class LoopbackRegistry : IAsyncDisposable
{
    private const string Binary = "/usr/bin/docker-registry";
    private readonly Process _process;
    private readonly string _folder;
    private readonly HttpClient _http;

    private LoopbackRegistry(Process process, string folder, int port)
    {
        (_process, _folder, Port) = (process, folder, port);
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    public static async Task<LoopbackRegistry> StartAsync()
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: tests/run.sh installs Debian's docker-registry package.");
        }

        var folder = Directory.CreateTempSubdirectory("emulator-registry-").FullName;
        var port = FreePort();
        var config = Path.Combine(folder, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {folder}/data
            http:
              addr: 127.0.0.1:{port}

            """);
        var info = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add(config);
        var registry = new LoopbackRegistry(Process.Start(info)!, folder, port);
        registry._process.OutputDataReceived += (_, _) => { };
        registry._process.ErrorDataReceived += (_, _) => { };
        registry._process.BeginOutputReadLine();
        registry._process.BeginErrorReadLine();
        await Wait.Until(async () =>
        {
            try
            {
                return (await registry._http.GetAsync("v2/")).StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the registry answering /v2/");
        return registry;
    }

    /// <summary>Pushes a one-layer image as <paramref name="repository"/>:<paramref name="tag"/>; returns its manifest digest.</summary>
    public async Task<string> PushAsync(string repository, string tag)
    {
        var layer = Encoding.UTF8.GetBytes("layer " + Guid.NewGuid());
        var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["{{Sha(layer)}}"]} }""");
        await PushBlobAsync(repository, layer);
        await PushBlobAsync(repository, config);
        var manifest = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Sha(config)}}","size":{{config.Length}}},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{Sha(layer)}}","size":{{layer.Length}}}]}
            """);
        using var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new("application/vnd.oci.image.manifest.v1+json");
        (await _http.PutAsync($"v2/{repository}/manifests/{tag}", content)).EnsureSuccessStatusCode();
        return Sha(manifest);
    }

    private async Task PushBlobAsync(string repository, byte[] blob)
    {
        var start = await _http.PostAsync($"v2/{repository}/blobs/uploads/", null);
        start.EnsureSuccessStatusCode();
        var location = start.Headers.Location!.ToString();
        var url = location + (location.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(Sha(blob));
        using var content = new ByteArrayContent(blob);
        content.Headers.ContentType = new("application/octet-stream");
        (await _http.PutAsync(url, content)).EnsureSuccessStatusCode();
    }

    private static string Sha(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}

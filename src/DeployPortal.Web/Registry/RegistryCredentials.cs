using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Registry;

internal sealed record RegistryCredential(string Username, string Password);

/// <summary>
/// The username and password for a registry host: from configuration, or from a Kubernetes <c>dockerconfigjson</c>
/// pull secret (the one the cluster pulls with, so the portal sees what the nodes see). Secrets are read briefly cached.
/// </summary>
internal sealed class RegistryCredentials(IOptionsMonitor<RegistryOptions> options, IServiceProvider services, IMemoryCache cache, ILogger<RegistryCredentials> logger)
{
    public async Task<RegistryCredential?> ForAsync(string apiHost, CancellationToken ct)
    {
        var registry = options.CurrentValue.For(apiHost);
        if (registry is null)
        {
            return null;
        }

        if (registry.Username is { } user && registry.Password is { } password)
        {
            return new RegistryCredential(user, password);
        }

        if (registry.PullSecret is not { } secret)
        {
            return null;
        }

        var json = await cache.GetOrCreateAsync(("registry-pull-secret", secret), async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1);
            return await ReadSecretAsync(secret, ct);
        });
        return json is null ? null : FromDockerConfig(json, registry.Host);
    }

    /// <summary>The entry for <paramref name="host"/> in a <c>.dockerconfigjson</c>: <c>auths.HOST.auth</c> (base64 user:password) or username and password.</summary>
    public static RegistryCredential? FromDockerConfig(string dockerConfigJson, string host)
    {
        using var doc = JsonDocument.Parse(dockerConfigJson);
        if (!doc.RootElement.TryGetProperty("auths", out var auths) || auths.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var entry in auths.EnumerateObject())
        {
            if (!SameHost(entry.Name, host))
            {
                continue;
            }

            if (entry.Value.TryGetProperty("auth", out var auth) && auth.GetString() is { Length: > 0 } encoded)
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
                var colon = pair.IndexOf(':');
                if (colon > 0)
                {
                    return new RegistryCredential(pair[..colon], pair[(colon + 1)..]);
                }
            }

            if (entry.Value.TryGetProperty("username", out var u) && entry.Value.TryGetProperty("password", out var p))
            {
                return new RegistryCredential(u.GetString() ?? "", p.GetString() ?? "");
            }
        }

        return null;
    }

    /// <summary>Docker config keys may be <c>https://host/v1/</c>, <c>host</c> or <c>host:port</c>; Docker Hub has several names.</summary>
    private static bool SameHost(string key, string host)
    {
        var name = key.Contains("://", StringComparison.Ordinal) ? new Uri(key).Authority : key.Split('/')[0];
        return string.Equals(ImageName.ApiHost(name), ImageName.ApiHost(host), StringComparison.OrdinalIgnoreCase);
    }

    private async Task<string?> ReadSecretAsync(string secret, CancellationToken ct)
    {
        var parts = secret.Split('/');
        try
        {
            var kube = services.GetRequiredService<IKubernetes>();
            var read = await kube.CoreV1.ReadNamespacedSecretAsync(parts[1], parts[0], cancellationToken: ct);
            return read.Data?.TryGetValue(".dockerconfigjson", out var bytes) == true ? Encoding.UTF8.GetString(bytes) : null;
        }
        catch (HttpOperationException ex)
        {
            logger.LogWarning("The pull secret {Secret} could not be read: {Status}", secret, ex.Response.StatusCode);
            return null;
        }
    }
}

using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Registry;

/// <summary>
/// Bound from <c>Registry</c>. Nothing configured means no image checks at all: the embedded default needs no registry.
/// An app's images are checked when a registry is listed for its image host.
/// </summary>
internal sealed class RegistryOptions
{
    public const string Section = "Registry";

    public List<RegistryHostOptions> Registries { get; set; } = [];

    /// <summary>The whole of one lookup (every attempt and the token round trip): a page never waits longer for a registry.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>One HTTP attempt; a slower answer is retried while <see cref="Timeout"/> allows.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(2);

    public int Retries { get; set; } = 2;

    /// <summary>How long an answer ("found at sha256:…", "not built yet") is reused before the registry is asked again.</summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a deployment "as soon as it is built" waits for its image before it gives up.</summary>
    public TimeSpan WaitForImageLimit { get; set; } = TimeSpan.FromMinutes(45);

    /// <summary>
    /// The shared secret the registry's push notifications must carry (<c>Authorization: Bearer …</c>, set in the
    /// registry's <c>notifications.endpoints[].headers</c>); unset turns <c>POST /api/v1/registry/events</c> off (404).
    /// </summary>
    public string? EventsToken { get; set; }

    public RegistryHostOptions? For(string host) =>
        Registries.FirstOrDefault(r => string.Equals(ImageName.ApiHost(r.Host), ImageName.ApiHost(host), StringComparison.OrdinalIgnoreCase));
}

/// <summary>One registry the portal may ask: its host as images name it, and how to sign in.</summary>
internal sealed class RegistryHostOptions
{
    /// <summary>As image references name it: <c>registry.example.com</c>, <c>ghcr.io</c>, <c>docker.io</c>, <c>127.0.0.1:5000</c>.</summary>
    public string Host { get; set; } = "";

    /// <summary>Speak plain HTTP instead of HTTPS (a registry on loopback or in a test).</summary>
    public bool PlainHttp { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>A Kubernetes <c>kubernetes.io/dockerconfigjson</c> secret, <c>namespace/name</c>, to take credentials from when no username is set.</summary>
    public string? PullSecret { get; set; }
}

internal sealed class RegistryOptionsValidator : IValidateOptions<RegistryOptions>
{
    public ValidateOptionsResult Validate(string? name, RegistryOptions o)
    {
        var rules = new OptionRules(RegistryOptions.Section)
            .Positive(nameof(o.Timeout), o.Timeout)
            .Positive(nameof(o.AttemptTimeout), o.AttemptTimeout)
            .Between(nameof(o.Retries), o.Retries, 0, 10)
            .NotNegative(nameof(o.CacheFor), o.CacheFor)
            .Between(nameof(o.WaitForImageLimit), o.WaitForImageLimit, TimeSpan.FromMinutes(1), TimeSpan.FromDays(1))
            .Check(o.EventsToken is null || o.EventsToken.Length >= 16, "Registry:EventsToken must be at least 16 characters (a shared secret), or unset to turn the events endpoint off.");
        for (var i = 0; i < o.Registries.Count; i++)
        {
            var r = o.Registries[i];
            rules.Check(!string.IsNullOrWhiteSpace(r.Host) && !r.Host.Contains('/'), $"Registry:Registries:{i}:Host must be a host name with an optional port, e.g. registry.example.com.")
                .Check(r.PullSecret is null || r.PullSecret.Split('/') is [{ Length: > 0 }, { Length: > 0 }], $"Registry:Registries:{i}:PullSecret must be namespace/name.")
                .Check(r.Username is null == r.Password is null, $"Registry:Registries:{i}: set both Username and Password, or neither.");
        }

        return rules.Result();
    }
}

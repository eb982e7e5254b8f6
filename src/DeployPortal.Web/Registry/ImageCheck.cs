using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Registry;

/// <summary>
/// What the portal knows about an image: off (null) unless a registry is configured for the image's host. Answers
/// for pages are shared and cached for <see cref="RegistryOptions.CacheFor"/> (one lookup however many pages ask);
/// "could not reach" is never cached. A deploy resolves its digest fresh (<see cref="ResolveAsync"/>).
/// </summary>
internal sealed class ImageCheck(RegistryClient client, IMemoryCache cache, IOptionsMonitor<RegistryOptions> options)
{
    public bool IsEnabledFor(string image) => options.CurrentValue.For(ImageName.Parse(image).Host) is not null;

    /// <summary>The image's digest and build time, as the registry holds it now (cached briefly); null when no registry is configured for it.</summary>
    public async Task<ImageLookup?> DescribeAsync(string image, CancellationToken ct = default)
    {
        if (!IsEnabledFor(image))
        {
            return null;
        }

        var key = ("registry-describe", image);
        var lookup = cache.GetOrCreate(key, entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = options.CurrentValue.CacheFor > TimeSpan.Zero ? options.CurrentValue.CacheFor : TimeSpan.FromTicks(1);
            // Not the caller's token: other pages share this lookup, and the client bounds it with Registry:Timeout.
            return client.DescribeAsync(image, CancellationToken.None);
        })!;
        var answer = await lookup.WaitAsync(ct);
        if (answer.Status == ImageStatus.Unavailable)
        {
            cache.Remove(key);
        }

        return answer;
    }

    /// <summary>The digest the tag names right now (never cached: this is what will run); null when no registry is configured.</summary>
    public async Task<ImageLookup?> ResolveAsync(string image, CancellationToken ct = default) =>
        IsEnabledFor(image) ? await client.ResolveAsync(image, ct) : null;

    /// <summary>Forgets a cached answer, e.g. when the registry reports a push of that image.</summary>
    public void Forget(string image) => cache.Remove(("registry-describe", image));
}

using DeployPortal.Web.Apps;
using DeployPortal.Web.Common;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Git;

namespace DeployPortal.Web.Registry;

/// <summary>What the registry holds for a branch of an app, as the deploy form and the API show it.</summary>
/// <param name="Checked">False when no registry is configured for the app's image host: nothing was asked.</param>
/// <param name="Sentence">"image registry.example.com/shop/storefront:feature-login — pushed 4 min ago (sha256:3f2a…)" or "… — not built yet".</param>
public sealed record ImagePreflightView(bool Checked, string Image, ImageStatus? Status, string? Digest, DateTimeOffset? PushedAt, string Sentence, string? Problem)
{
    public bool Deployable => !Checked || Status == ImageStatus.Found;
}

/// <summary>
/// The image pre-flight: the branch's commit gives the tag (the app's tag template), the registry its digest and build
/// time. Off (<see cref="ImagePreflightView.Checked"/> false) unless a registry is configured for the app's image host.
/// </summary>
internal sealed class ImagePreflight(BranchCatalog branches, ImageCheck images, TimeProvider clock)
{
    /// <summary>Null when the branch does not exist (the caller says so in its own words).</summary>
    public async Task<ImagePreflightView?> CheckAsync(AppDefinition app, string branch, CancellationToken ct = default)
    {
        var commit = (await branches.ListAsync(app, refresh: false, ct)).FirstOrDefault(b => b.Name == branch)?.Commit
            ?? (await branches.ResolveAsync(app, branch, ct))?.Commit;
        if (commit is null)
        {
            return null;
        }

        var image = KubeNames.ImageReference(app.ImageRepository, app.TagTemplate, branch, commit);
        return await images.DescribeAsync(image, ct) is { } lookup
            ? new ImagePreflightView(true, image, lookup.Status, lookup.Digest, lookup.PushedAt, Describe(lookup, clock.GetUtcNow()), lookup.Problem)
            : new ImagePreflightView(false, image, null, null, null, $"image {image} — not checked (no registry configured for {ImageName.Parse(image).Host})", null);
    }

    /// <summary>
    /// Why a deploy of this branch must not be queued now: its image is not built (<see cref="ImageRefusal.NotBuilt"/>:
    /// the deploy may wait for it instead), or the registry cannot say. Asks the registry afresh (one HEAD), so a push a
    /// moment ago counts. Null when deployable or not checked.
    /// </summary>
    public async Task<ImageRefusal?> RefusalAsync(AppDefinition app, RemoteBranch branch, CancellationToken ct = default)
    {
        var image = KubeNames.ImageReference(app.ImageRepository, app.TagTemplate, branch.Name, branch.Commit);
        return await images.ResolveAsync(image, ct) switch
        {
            null or { Status: ImageStatus.Found } => null,
            { Status: ImageStatus.Missing } => new ImageRefusal(Fail.Conflict($"The image {image} is not built yet: deploy once CI has pushed it, or deploy as soon as it is built."), image, NotBuilt: true),
            var failed => new ImageRefusal(Fail.Conflict(failed.Problem!), image, NotBuilt: false),
        };
    }

    public static string Describe(ImageLookup lookup, DateTimeOffset now) => lookup switch
    {
        { Status: ImageStatus.Found, PushedAt: { } at } => $"image {lookup.Image} — pushed {TimeText.Relative(at.UtcDateTime, now.UtcDateTime)} ({ImageLookup.Short(lookup.Digest!)})",
        { Status: ImageStatus.Found } => $"image {lookup.Image} — in the registry ({ImageLookup.Short(lookup.Digest!)})",
        { Status: ImageStatus.Missing } => $"image {lookup.Image} — not built yet",
        _ => $"image {lookup.Image} — {lookup.Problem}",
    };
}

/// <summary>Why a branch's image stops a deploy; <paramref name="NotBuilt"/> when the registry answered it has no such tag (yet).</summary>
internal sealed record ImageRefusal(Failure Failure, string Image, bool NotBuilt);

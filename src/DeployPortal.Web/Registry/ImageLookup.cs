namespace DeployPortal.Web.Registry;

public enum ImageStatus
{
    /// <summary>The registry holds the image: <see cref="ImageLookup.Digest"/> names exactly what was found.</summary>
    Found = 1,

    /// <summary>The registry answered, and has no such tag (not built yet).</summary>
    Missing = 2,

    /// <summary>The registry refused the portal's credentials (or it has none and the registry wants some).</summary>
    Refused = 3,

    /// <summary>The registry did not answer in time, or could not be reached.</summary>
    Unavailable = 4,
}

/// <summary>What a registry said about one image. <see cref="Problem"/> says in a sentence why it is not <see cref="ImageStatus.Found"/>.</summary>
internal sealed record ImageLookup(string Image, ImageStatus Status, string? Digest = null, DateTimeOffset? PushedAt = null, string? Problem = null)
{
    public bool Found => Status == ImageStatus.Found;

    /// <summary>"sha256:3f2a9c1d…": enough of a digest for a person to compare two.</summary>
    public static string Short(string digest) => digest.Length > 19 ? digest[..19] + "…" : digest;
}

namespace DeployPortal.Web.Registry;

/// <summary>
/// An image reference taken apart as a registry sees it: <c>registry.example.com/shop/web:tag</c> →
/// host <c>registry.example.com</c>, repository <c>shop/web</c>, reference <c>tag</c>. Docker Hub names
/// (<c>nginx</c>, <c>docker.io/library/nginx</c>) are normalised the way docker does.
/// </summary>
internal sealed record ImageName(string Host, string Repository, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    /// <summary>The tag or digest to ask for (the digest when both are given).</summary>
    public string Reference => Digest ?? Tag ?? "latest";

    /// <summary>Host and repository as the image names it, without tag or digest: what <c>repo@sha256:…</c> starts with.</summary>
    public string Repo => $"{Host}/{Repository}";

    public string WithDigest(string digest) => $"{Repo}@{digest}";

    public override string ToString() => Repo + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    public static ImageName Parse(string image)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(image);
        string? digest = null;
        var at = image.IndexOf('@');
        if (at >= 0)
        {
            digest = image[(at + 1)..];
            image = image[..at];
        }

        string? tag = null;
        var colon = image.LastIndexOf(':');
        if (colon > image.LastIndexOf('/'))
        {
            tag = image[(colon + 1)..];
            image = image[..colon];
        }

        var slash = image.IndexOf('/');
        var first = slash < 0 ? "" : image[..slash];
        var (host, repository) = slash >= 0 && (first.Contains('.') || first.Contains(':') || first == "localhost")
            ? (first, image[(slash + 1)..])
            : (DockerHub, image);
        if (host is DockerHub or "index.docker.io" && !repository.Contains('/'))
        {
            repository = "library/" + repository;
        }

        return new ImageName(host == "index.docker.io" ? DockerHub : host, repository, tag ?? (digest is null ? "latest" : null), digest);
    }

    /// <summary>The host that answers the registry API for images named with <paramref name="host"/> (Docker Hub's differs).</summary>
    public static string ApiHost(string host) => host is DockerHub or "index.docker.io" ? "registry-1.docker.io" : host;
}

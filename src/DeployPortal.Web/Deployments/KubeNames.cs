using System.Security.Cryptography;
using System.Text;

namespace DeployPortal.Web.Deployments;

/// <summary>Turns free text (branch names, user ids) into Kubernetes names and label values, and image tags.</summary>
public static class KubeNames
{
    public const int MaxLabel = 63;
    private const int HashLength = 6;

    /// <summary>
    /// A valid DNS-1123 label (a-z, 0-9, '-', starts and ends with a letter or digit, at most 63
    /// characters), deterministic. A value that already is one is kept as it is; any other gets a short
    /// hash of the original appended, so "feature/login" and "feature-login" never collide.
    /// </summary>
    public static string Label(string value, int maxLength = MaxLabel)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, HashLength + 2);
        if (IsLabel(value) && value.Length <= maxLength)
        {
            return value;
        }

        var hash = Hash(value);
        var stem = Slug(value, maxLength - HashLength - 1);
        return stem.Length == 0 ? "x-" + hash : $"{stem}-{hash}";
    }

    /// <summary>
    /// The branch slug CI systems tag images with (GitLab's CI_COMMIT_REF_SLUG): lower case, every run of
    /// other characters replaced by '-', at most 63 characters, no '-' at either end.
    /// </summary>
    public static string Slug(string value, int maxLength = MaxLabel)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value.ToLowerInvariant())
        {
            var keep = c is >= 'a' and <= 'z' or >= '0' and <= '9';
            if (keep)
            {
                builder.Append(c);
            }
            else if (builder.Length > 0 && builder[^1] != '-')
            {
                builder.Append('-');
            }
        }

        var slug = builder.ToString();
        if (slug.Length > maxLength)
        {
            slug = slug[..maxLength];
        }

        return slug.Trim('-');
    }

    public static bool IsLabel(string value) =>
        value.Length is > 0 and <= MaxLabel
        && value.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-')
        && value[0] != '-' && value[^1] != '-';

    /// <summary>
    /// The image for a branch build: <c>repository:tag</c> from the app's tag template. <c>{branchSlug}</c> is the same
    /// for branches that differ only in '/', '-', '_' or case; <c>{branchSlugHash}</c> adds a short hash of the exact name.
    /// </summary>
    public static string ImageReference(string repository, string tagTemplate, string branch, string commit)
    {
        var tag = tagTemplate
            .Replace("{branchSlugHash}", $"{Slug(branch, MaxLabel - HashLength - 1)}-{Hash(branch)}", StringComparison.Ordinal)
            .Replace("{branchSlug}", Slug(branch), StringComparison.Ordinal)
            .Replace("{shortSha}", commit.Length >= 8 ? commit[..8] : commit, StringComparison.Ordinal)
            .Replace("{sha}", commit, StringComparison.Ordinal);
        return $"{repository}:{tag}";
    }

    private static string Hash(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..HashLength];
}

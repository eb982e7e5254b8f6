using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>A parsed resource path: <c>/api/v1/namespaces/{ns}/{plural}/{name}/{subresource}</c> and the like.</summary>
internal sealed record ResourcePath(ResourceKind Kind, string? Namespace, string? Name, string? Subresource)
{
    public static ResourcePath? Parse(string[] s)
    {
        string group, version;
        int i;
        if (s.Length >= 2 && s[0] == "api")
        { group = ""; version = s[1]; i = 2; }
        else if (s.Length >= 3 && s[0] == "apis")
        { group = s[1]; version = s[2]; i = 3; }
        else
        {
            return null;
        }

        var rest = s[i..];
        if (rest.Length >= 3 && rest[0] == "namespaces" && ResourceKind.Find(group, version, rest[2]) is { Namespaced: true } nk)
        {
            return rest.Length <= 5 ? new ResourcePath(nk, rest[1], rest.ElementAtOrDefault(3), rest.ElementAtOrDefault(4)) : null;
        }

        if (rest.Length is >= 1 and <= 3 && ResourceKind.Find(group, version, rest[0]) is { } k)
        {
            if (k.Namespaced && rest.Length > 1)
            {
                return null;
            }

            return new ResourcePath(k, null, rest.ElementAtOrDefault(1), rest.ElementAtOrDefault(2));
        }
        return null;
    }
}

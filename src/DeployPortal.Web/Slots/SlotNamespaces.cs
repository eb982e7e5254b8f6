using DeployPortal.Web.Cluster;
using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Which Kubernetes namespaces a slot may be given. A release deletes what the portal applied in the slot's
/// namespace, so a namespace shared with another slot, with the cluster itself or with the portal would let a
/// deploy or a release in one place break another. Uniqueness across slots is the database's (unique index);
/// this decides the rest, with a sentence the admin can act on.
/// </summary>
internal sealed class SlotNamespaces(IOptionsMonitor<ClusterOptions> options)
{
    private const string ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    private readonly Lazy<string?> _inClusterNamespace = new(() =>
        File.Exists(ServiceAccountNamespaceFile) ? File.ReadAllText(ServiceAccountNamespaceFile).Trim() : null);

    /// <summary>Null when <paramref name="ns"/> may be a slot's namespace, otherwise why not.</summary>
    public Failure? Check(string ns)
    {
        var cluster = options.CurrentValue;
        if (ns == "default" || ns.StartsWith("kube-", StringComparison.Ordinal))
        {
            return Fail.Invalid($"{ns} is a namespace of Kubernetes itself, shared with everything else in the cluster; give the slot a namespace of its own, e.g. qa-5.");
        }

        var portal = cluster.PortalNamespace ?? (cluster.Mode == ClusterMode.InCluster ? _inClusterNamespace.Value : null);
        if (ns == portal)
        {
            return Fail.Invalid($"{ns} is the portal's own namespace; releasing the slot would delete what runs there. Give the slot a namespace of its own.");
        }

        if (cluster.AllowedNamespaces is { Count: > 0 } allowed && !allowed.Any(pattern => Matches(pattern, ns)))
        {
            return Fail.Invalid($"The portal may not deploy into {ns}: slot namespaces must be one of {string.Join(", ", allowed)} "
                + $"(the setting {ClusterOptions.Section}:{nameof(ClusterOptions.AllowedNamespaces)}).");
        }

        return null;
    }

    /// <summary>An entry of <see cref="ClusterOptions.AllowedNamespaces"/> is a name, or a prefix followed by <c>*</c>.</summary>
    private static bool Matches(string pattern, string ns) => pattern.EndsWith('*')
        ? ns.StartsWith(pattern[..^1], StringComparison.Ordinal)
        : ns == pattern;
}

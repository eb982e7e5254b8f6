using System.Globalization;
using DeployPortal.Web.Cluster;
using k8s;
using k8s.Models;

namespace DeployPortal.Web.GitOps;

/// <summary>
/// The files of one app in the configuration repository: the same Deployment, Service and Ingress that
/// <see cref="ManifestBuilder"/> makes for the direct mode, as plain YAML, one object a file.
/// </summary>
internal static class ConfigManifests
{
    public const string DeploymentFile = "deployment.yaml";

    /// <summary>Replaces the app's folder with exactly its three manifests.</summary>
    public static async Task WriteAsync(string folder, AppObjects objects, CancellationToken ct)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, DeploymentFile), KubernetesYaml.Serialize(objects.Deployment), ct);
        await File.WriteAllTextAsync(Path.Combine(folder, "service.yaml"), KubernetesYaml.Serialize(objects.Service), ct);
        await File.WriteAllTextAsync(Path.Combine(folder, "ingress.yaml"), KubernetesYaml.Serialize(objects.Ingress), ct);
    }

    /// <summary>
    /// Removes the app folders under <paramref name="slotFolder"/> that a hold deployed (by the hold label of their
    /// Deployment), so a release never removes what the slot's next holder committed. Answers the apps removed.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RemoveHoldAsync(string slotFolder, long holdId, CancellationToken ct)
    {
        var removed = new List<string>();
        if (!Directory.Exists(slotFolder))
        {
            return removed;
        }

        var hold = holdId.ToString(CultureInfo.InvariantCulture);
        foreach (var folder in Directory.GetDirectories(slotFolder).Order(StringComparer.Ordinal))
        {
            var file = Path.Combine(folder, DeploymentFile);
            if (!File.Exists(file))
            {
                continue;
            }

            var deployment = KubernetesYaml.Deserialize<V1Deployment>(await File.ReadAllTextAsync(file, ct));
            if (deployment.Metadata?.Labels?.TryGetValue(ManifestBuilder.HoldLabel, out var label) == true && label == hold)
            {
                Directory.Delete(folder, recursive: true);
                removed.Add(Path.GetFileName(folder));
            }
        }

        return removed;
    }
}

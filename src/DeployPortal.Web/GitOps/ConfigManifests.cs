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
    public const string IngressFile = "ingress.yaml";

    /// <summary>While the hold sleeps with wake on access on: the Service that leads the app's Ingress to the portal.</summary>
    public const string WakeServiceFile = "wake-service.yaml";

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
        await File.WriteAllTextAsync(Path.Combine(folder, IngressFile), KubernetesYaml.Serialize(objects.Ingress), ct);
    }

    /// <summary>
    /// Removes the app folders under <paramref name="slotFolder"/> that a hold deployed (by the hold label of their
    /// Deployment), so a release never removes what the slot's next holder committed. Answers the apps removed.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RemoveHoldAsync(string slotFolder, long holdId, CancellationToken ct)
    {
        var removed = new List<string>();
        foreach (var (folder, _) in await HoldAppsAsync(slotFolder, holdId, ct))
        {
            Directory.Delete(folder, recursive: true);
            removed.Add(Path.GetFileName(folder));
        }

        return removed;
    }

    /// <summary>The app folders under <paramref name="slotFolder"/> whose Deployment carries the hold's label, with that Deployment.</summary>
    public static async Task<IReadOnlyList<(string Folder, V1Deployment Deployment)>> HoldAppsAsync(string slotFolder, long holdId, CancellationToken ct)
    {
        var found = new List<(string, V1Deployment)>();
        if (!Directory.Exists(slotFolder))
        {
            return found;
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
                found.Add((folder, deployment));
            }
        }

        return found;
    }

    /// <summary>Reads one object's file in an app folder, lets <paramref name="edit"/> change it, and writes it back when it says it did.</summary>
    public static async Task<bool> EditAsync<T>(string folder, string file, Func<T, bool> edit, CancellationToken ct)
    {
        var path = Path.Combine(folder, file);
        if (!File.Exists(path))
        {
            return false;
        }

        var item = KubernetesYaml.Deserialize<T>(await File.ReadAllTextAsync(path, ct));
        if (!edit(item))
        {
            return false;
        }

        await File.WriteAllTextAsync(path, KubernetesYaml.Serialize(item), ct);
        return true;
    }
}

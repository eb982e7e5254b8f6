using DeployPortal.Web.Cluster;
using DeployPortal.Web.Slots;
using k8s;
using k8s.Models;

namespace DeployPortal.Web.GitOps;

/// <summary>
/// Sleep and wake in GitOps mode: the replicas (zero, then the remembered count) and the Ingresses' way to the wake page
/// are committed to the app folders of the hold in the configuration repository, one commit per change, and Argo CD
/// applies them. A patch on the live objects would be undone by Argo CD's self-heal. Safe to repeat: a change already
/// in the repository makes no commit.
/// </summary>
internal sealed class GitOpsHoldScaling(ConfigRepository repository) : IHoldScaling
{
    public Task SleepAsync(HoldApps hold, string? wakeHost, string why, CancellationToken ct) =>
        ChangeAsync(hold, async (folder, app) =>
        {
            var changed = await ConfigManifests.EditAsync<V1Deployment>(folder, ConfigManifests.DeploymentFile, ManifestBuilder.Sleep, ct);
            if (wakeHost is { Length: > 0 })
            {
                var wake = KubernetesYaml.Serialize(ManifestBuilder.WakeService(hold.Namespace, hold.HoldId, wakeHost, WakeServiceName(app)));
                var file = Path.Combine(folder, ConfigManifests.WakeServiceFile);
                changed |= !File.Exists(file) || await File.ReadAllTextAsync(file, ct) != wake;
                await File.WriteAllTextAsync(file, wake, ct);
                changed |= await ConfigManifests.EditAsync<V1Ingress>(folder, ConfigManifests.IngressFile, i => ManifestBuilder.Route(i, WakeServiceName(app)), ct);
            }

            return changed;
        }, apps => $"Sleep {hold.Slot} {apps}: {why}\n\nScaled to zero replicas; the count before sleep is kept in {ManifestBuilder.ReplicasBeforeSleepAnnotation}."
            + (wakeHost is { Length: > 0 } ? $"\nTheir addresses lead to DeployPortal's wake page ({wakeHost}) until they are awake again." : ""), ct);

    public Task WakeAsync(HoldApps hold, CancellationToken ct) =>
        ChangeAsync(hold, (folder, _) => ConfigManifests.EditAsync<V1Deployment>(folder, ConfigManifests.DeploymentFile, ManifestBuilder.Wake, ct),
            apps => $"Wake {hold.Slot} {apps}\n\nScaled back to the replicas they had before sleep.", ct);

    public Task RouteToAppsAsync(HoldApps hold, CancellationToken ct) =>
        ChangeAsync(hold, async (folder, _) =>
        {
            var wake = Path.Combine(folder, ConfigManifests.WakeServiceFile);
            var changed = File.Exists(wake);
            File.Delete(wake);
            return await ConfigManifests.EditAsync<V1Ingress>(folder, ConfigManifests.IngressFile, i => ManifestBuilder.Route(i, i.Metadata.Name), ct) || changed;
        }, apps => $"Lead {hold.Slot} {apps} back to the apps\n\nAwake and ready again: their addresses no longer lead to DeployPortal's wake page.", ct);

    /// <summary>The wake Service of one app: one per app folder, so no two Applications manage the same object.</summary>
    internal static string WakeServiceName(string app) => $"{ManifestBuilder.WakeServiceName}-{app}";

    /// <summary>One commit changing the hold's app folders; the message names the apps <paramref name="change"/> said it changed.</summary>
    private async Task ChangeAsync(HoldApps hold, Func<string, string, Task<bool>> change, Func<string, string> message, CancellationToken ct)
    {
        var changed = new List<string>();
        await repository.CommitAsync(async work =>
        {
            foreach (var (folder, deployment) in await ConfigManifests.HoldAppsAsync(Path.Combine(work, repository.SlotPath(hold.Slot)), hold.HoldId, ct))
            {
                if (await change(folder, deployment.Metadata.Name))
                {
                    changed.Add(deployment.Metadata.Name);
                }
            }
        }, () => message(string.Join(", ", changed)), ct);
    }
}

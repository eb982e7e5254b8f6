using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Controllers.Argo;

/// <summary>
/// Argo CD's health assessment for the kinds the portal applies: a Deployment is Healthy when its rollout has finished
/// (the controller saw the latest generation and every wanted replica is updated and available), Degraded when it
/// exceeded its progress deadline, Progressing otherwise; Services, Ingresses and config are Healthy once they exist.
/// The application's health is its worst resource's.
/// </summary>
internal static class ArgoHealth
{
    public const string Healthy = "Healthy";
    public const string Progressing = "Progressing";
    public const string Degraded = "Degraded";

    public static (string Status, string? Message) Of(IEnumerable<StoredObject> deployments)
    {
        (string Status, string? Message) worst = (Healthy, null);
        foreach (var d in deployments)
        {
            var health = OfDeployment(d.Node);
            if (Rank(health.Status) > Rank(worst.Status))
            {
                worst = health;
            }
        }

        return worst;
    }

    private static int Rank(string status) => status switch { Degraded => 2, Progressing => 1, _ => 0 };

    private static (string Status, string? Message) OfDeployment(JsonObject d)
    {
        var name = Json.Str(d, "metadata", "name");
        var conditions = (d["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>() ?? [];
        if (conditions.Any(c => Json.Str(c, "type") == "Progressing" && Json.Str(c, "reason") == "ProgressDeadlineExceeded"))
        {
            return (Degraded, $"Deployment \"{name}\" exceeded its progress deadline");
        }

        var generation = Json.Long(d, "metadata", "generation") ?? 0;
        var observed = Json.Long(d, "status", "observedGeneration") ?? 0;
        var wanted = Json.Long(d, "spec", "replicas") ?? 1;
        var updated = Json.Long(d, "status", "updatedReplicas") ?? 0;
        var replicas = Json.Long(d, "status", "replicas") ?? 0;
        var available = Json.Long(d, "status", "availableReplicas") ?? 0;
        if (observed < generation)
        {
            return (Progressing, "Waiting for rollout to finish: observed deployment generation less than desired generation");
        }

        if (updated < wanted)
        {
            return (Progressing, $"Waiting for rollout to finish: {updated} out of {wanted} new replicas have been updated...");
        }

        if (replicas > updated)
        {
            return (Progressing, $"Waiting for rollout to finish: {replicas - updated} old replicas are pending termination...");
        }

        return available < updated
            ? (Progressing, $"Waiting for rollout to finish: {available} of {updated} updated replicas are available...")
            : (Healthy, null);
    }
}

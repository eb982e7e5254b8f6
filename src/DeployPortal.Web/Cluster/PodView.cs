using k8s.Models;

namespace DeployPortal.Web.Cluster;

/// <summary>One pod as the portal shows it: its first container's readiness, restarts and the reason it waits or ended.</summary>
public sealed record PodView(string Name, string Phase, bool Ready, int Restarts, string? Reason, string Image, DateTime? StartedAt)
{
    public static PodView From(V1Pod pod)
    {
        var container = pod.Status?.ContainerStatuses?.FirstOrDefault();
        var reason = container?.State?.Waiting?.Reason ?? container?.State?.Terminated?.Reason ?? pod.Status?.Reason;
        return new PodView(
            pod.Metadata.Name,
            pod.Status?.Phase ?? "Pending",
            container?.Ready ?? false,
            container?.RestartCount ?? 0,
            reason,
            pod.Spec?.Containers?.FirstOrDefault()?.Image ?? "",
            pod.Status?.StartTime)
        { Detail = container?.State?.Waiting?.Message };
    }

    /// <summary>What the node said about the waiting container, e.g. the runtime's pull error ("…: not found").</summary>
    public string? Detail { get; init; }

    /// <summary>Pods oldest first (then by name), as every list of them is shown.</summary>
    public static IReadOnlyList<PodView> Snapshot(IEnumerable<V1Pod> pods) =>
        [.. pods.OrderBy(p => p.Metadata.CreationTimestamp).ThenBy(p => p.Metadata.Name).Select(From)];
}

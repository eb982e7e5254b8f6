using k8s.Models;

namespace DeployPortal.Web.Cluster;

internal sealed record RolloutStatus(bool Done, string? Failure, int Ready, int Desired, IReadOnlyList<PodView> Pods);

/// <summary>
/// A rollout's state as the portal reports it, and the pod whose log would explain a crash on start (its last
/// lines belong in the failure message; reading them is the caller's business).
/// </summary>
internal sealed record RolloutVerdict(RolloutStatus Status, PodView? Crashed)
{
    /// <summary>The status with the crashed pod's last log lines appended to its failure (none: unchanged).</summary>
    public RolloutStatus WithCrashLog(string tail) =>
        Crashed is null || tail.Length == 0 ? Status : Status with { Failure = $"{Status.Failure} Last lines of its log:\n{tail}" };
}

/// <summary>
/// Decides, from a Deployment's status and its new pods, whether a rollout is done, still going, or failed, and
/// why in words a developer can act on. Pure: no cluster calls.
/// </summary>
internal static class RolloutEvaluator
{
    private static readonly string[] PullFailures = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"];

    /// <summary>The rollout of <paramref name="deployment"/>, judged by <paramref name="pods"/> (those of the image being rolled out).</summary>
    public static RolloutVerdict Evaluate(V1Deployment deployment, IReadOnlyList<PodView> pods)
    {
        var desired = deployment.Spec.Replicas ?? 1;
        var status = deployment.Status;
        var ready = pods.Count(p => p.Ready);

        if (pods.FirstOrDefault(p => p.Reason is { } r && PullFailures.Contains(r)) is { } unpulled)
        {
            // The runtime's own words when it said the registry has no such image (ErrImagePull; the back-off that follows only says "Back-off").
            var missing = unpulled.Detail?.EndsWith(": not found", StringComparison.Ordinal) == true ? ": the registry has no such image" : "";
            return new(new RolloutStatus(true, $"The image {unpulled.Image} could not be pulled ({unpulled.Reason}){missing}. Has CI built and pushed this branch yet?", ready, desired, pods), null);
        }

        if (pods.FirstOrDefault(p => p.Reason == "CrashLoopBackOff") is { } crashing)
        {
            var message = $"The app crashes on start (CrashLoopBackOff; pod {crashing.Name} restarted {crashing.Restarts} {(crashing.Restarts == 1 ? "time" : "times")}).";
            return new(new RolloutStatus(true, message, ready, desired, pods), crashing);
        }

        if (status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing") is { Status: "False", Reason: "ProgressDeadlineExceeded" })
        {
            return new(new RolloutStatus(true, $"The rollout made no progress for {deployment.Spec.ProgressDeadlineSeconds} s (ProgressDeadlineExceeded): {ready} of {desired} pods became ready.", ready, desired, pods), null);
        }

        var complete = status is not null
            && (status.ObservedGeneration ?? 0) >= (deployment.Metadata.Generation ?? 0)
            && (status.UpdatedReplicas ?? 0) == desired
            && (status.AvailableReplicas ?? 0) == desired
            && (status.Replicas ?? 0) == desired
            && ready == desired;
        return new(new RolloutStatus(complete, null, ready, desired, pods), null);
    }
}

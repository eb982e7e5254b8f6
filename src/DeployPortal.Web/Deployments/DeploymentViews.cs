using DeployPortal.Web.Data;

namespace DeployPortal.Web.Deployments;

/// <summary>
/// Deploy a branch of an app into a slot; claims the slot first when the caller does not hold it. With
/// <paramref name="WhenBuilt"/>, an image the registry does not hold yet is waited for instead of refused.
/// </summary>
internal sealed record DeployRequest(string App, string Branch, int SlotId, string? Purpose = null, TimeSpan? HoldFor = null, bool WhenBuilt = false);

internal sealed record StepView(StepName Name, StepState State, DateTime StartedAt, DateTime? FinishedAt, string Message);

internal sealed record DeploymentView(
    long Id,
    string App,
    string Branch,
    string? Commit,
    string? Image,
    string? ImageDigest,
    bool PinnedCommit,
    int SlotId,
    string SlotName,
    string Namespace,
    long? HoldId,
    string RequestedById,
    string RequestedByName,
    DeploymentState State,
    DateTime CreatedAt,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    string? FailureReason,
    bool CancelRequested,
    string Url,
    IReadOnlyList<StepView> Steps)
{
    public bool IsFinished => State is DeploymentState.Succeeded or DeploymentState.Failed or DeploymentState.Cancelled;

    /// <summary>Until when the worker running it holds it; past that, the worker stopped (a crash) and another resumes it.</summary>
    public DateTime? LeaseUntil { get; init; }

    /// <summary>Waiting for its image: when the registry was last asked, and when the wait gives up.</summary>
    public DateTime? ImageCheckedAt { get; init; }

    public DateTime? ImageWaitUntil { get; init; }

    public bool WaitsForImage => State == DeploymentState.WaitingForImage;

    /// <summary>GitOps mode: the configuration repository commit holding this deployment's manifests.</summary>
    public string? ConfigCommit { get; init; }

    public bool WorkerStopped(DateTime now) => State == DeploymentState.Running && LeaseUntil < now;

    public string ShortCommit => Commit is { Length: >= 7 } c ? c[..7] : Commit ?? "";

    /// <summary>"sha256:3f2a9c1d…" when the image was resolved to a digest; empty otherwise.</summary>
    public string ShortDigest => ImageDigest is null ? "" : Registry.ImageLookup.Short(ImageDigest);
}

/// <summary>An earlier deployment's commit and image, deployed again as they were (a rollback): the same digest when it had one.</summary>
internal sealed record PinnedImage(string Commit, string Image, string? Digest);

/// <summary>The image a new deployment waits for (its branch's commit and tag), and when it gives up.</summary>
internal sealed record AwaitedImage(string Commit, string Image, DateTime Until);

/// <summary>What the deploy form needs to know about one slot.</summary>
public sealed record SlotChoice(int Id, string Name, bool Enabled, string? HolderId, string? HolderName, string? Purpose, IReadOnlyList<string> Running);

namespace DeployPortal.Web.Data;

/// <summary>A test server: one Kubernetes namespace that apps are deployed into.</summary>
public sealed class Slot
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public required string Namespace { get; set; }
    public string Description { get; set; } = "";
    /// <summary>Public address pattern, e.g. <c>https://{app}.{slot}.test.example.com</c>.</summary>
    public string UrlPattern { get; set; } = "";
    public bool Enabled { get; set; } = true;
    public DateTime CreatedAt { get; set; }

    /// <summary>Set while the portal removes what it deployed here after a release; the board shows "cleaning".</summary>
    public DateTime? CleaningSince { get; set; }

    /// <summary>The released hold whose objects are being removed (objects are labelled with their hold).</summary>
    public long? CleaningHoldId { get; set; }

    /// <summary>Made by the portal on demand from the elastic pool (<c>Slots:Elastic</c>), in a namespace of its own.</summary>
    public bool Elastic { get; set; }

    /// <summary>
    /// An elastic slot whose namespace was deleted after it stood free for <c>Slots:Elastic:RemoveAfter</c>. The row stays
    /// for the history (its holds and deployments point at it) and is taken again, under the same name, by the next slot the pool makes.
    /// </summary>
    public DateTime? RemovedAt { get; set; }

    /// <summary>Where an admin put the slot on the board (lower first); null slots follow in natural name order.</summary>
    public int? Position { get; set; }
}

/// <summary>
/// The elastic pool's budget as an admin set it at runtime (one row, id 1): overrides <c>Slots:Elastic:MaxSlots</c>
/// while <see cref="MaxSlots"/> is set. Its row is also what slot creation locks on PostgreSQL, so two creations
/// cannot both count the pool before either adds to it.
/// </summary>
public sealed class ElasticBudget
{
    public const int SingletonId = 1;

    public int Id { get; set; }
    public int? MaxSlots { get; set; }
    public string? ChangedByName { get; set; }
    public DateTime? ChangedAt { get; set; }
}

/// <summary>
/// Who holds a slot, for what and until when. A hold is active while <see cref="ReleasedAt"/> is null;
/// the database allows at most one active hold per slot (partial unique index).
/// </summary>
public sealed class Hold
{
    public long Id { get; set; }
    public int SlotId { get; set; }
    public Slot? Slot { get; set; }
    public required string HolderId { get; set; }
    public required string HolderName { get; set; }
    public required string Purpose { get; set; }
    public DateTime Since { get; set; }
    public DateTime Until { get; set; }

    /// <summary>Last sign of use: the claim, an extension, a deploy, someone looking at the slot's pages or logs, or requests to its apps (Prometheus).</summary>
    public DateTime LastActivityAt { get; set; }

    /// <summary>What that last sign of use was, so the board can say why a hold counts as in use.</summary>
    public ActivityKind LastActivityKind { get; set; }

    /// <summary>Set while the slot's apps are scaled to zero to save the cluster's resources; cleared on wake.</summary>
    public DateTime? SleepingSince { get; set; }

    public DateTime? ReleasedAt { get; set; }
    public string? ReleasedById { get; set; }
    public string? ReleasedByName { get; set; }
    public ReleaseReason? ReleaseReason { get; set; }
    public QaOutcome? QaOutcome { get; set; }
    public string? ReleaseNote { get; set; }

    /// <summary>
    /// The end time the "expiring soon" reminder was sent for. A second run of the expiry job sees it and stays
    /// quiet; an extension moves <see cref="Until"/> away from it, so the next approach to the end reminds again.
    /// </summary>
    public DateTime? RemindedFor { get; set; }

    /// <summary>
    /// When the holder of this idle hold was asked "keep it or give it back?"; null when not asked. Any activity after
    /// it (a deploy, a page or log view, "keep it") answers "keep".
    /// </summary>
    public DateTime? KeepAskedAt { get; set; }

    /// <summary>Without an answer the hold ends at this time, through the expiry path. Set with <see cref="KeepAskedAt"/>.</summary>
    public DateTime? KeepDeadline { get; set; }

    /// <summary>The first person waiting for a slot like this one when the holder was asked (the shorter deadline applies); null when nobody waited.</summary>
    public string? KeepWaiterName { get; set; }

    /// <summary>Set when the hold was given back for idleness (the question went unanswered): the end it had until then.</summary>
    public DateTime? GivenBackUntil { get; set; }
}

public enum ReleaseReason
{
    Released = 1,
    QaDone = 2,
    Expired = 3,
    Forced = 4,
}

/// <summary>The kinds of sign of use recorded on a hold (<see cref="Hold.LastActivityKind"/>).</summary>
public enum ActivityKind
{
    Claim = 0,
    PageView = 1,
    Deploy = 2,
    AppTraffic = 3,
    Visit = 4,
    Keep = 5,
    Extend = 6,
    Wake = 7,
}

public enum QaOutcome
{
    Pass = 1,
    Fail = 2,
}

/// <summary>Append-only record of every state change; never updated or deleted by the portal.</summary>
public sealed class AuditEvent
{
    public long Id { get; set; }
    public DateTime At { get; set; }
    public required string ActorId { get; set; }
    public required string ActorName { get; set; }
    public required string Action { get; set; }
    public int? SlotId { get; set; }
    public string? SlotName { get; set; }
    public string Details { get; set; } = "";
}

/// <summary>
/// One request to put an app's branch into a slot. The row is the source of truth; Hangfire only executes it.
/// Deployments of one app into one slot run one at a time, in id (request) order.
/// </summary>
public sealed class Deployment
{
    public long Id { get; set; }
    public int SlotId { get; set; }
    public Slot? Slot { get; set; }
    public long? HoldId { get; set; }
    public required string App { get; set; }
    public required string Branch { get; set; }
    /// <summary>Resolved when the deployment runs, or fixed up front for a rollback to an earlier commit.</summary>
    public string? Commit { get; set; }
    public string? Image { get; set; }
    /// <summary>The manifest digest <see cref="Image"/>'s tag named when the deployment resolved it; the slot runs <c>repo@digest</c>. Null without a registry.</summary>
    public string? ImageDigest { get; set; }
    public bool PinnedCommit { get; set; }
    /// <summary>In GitOps mode, the configuration repository commit that holds this deployment's manifests (its release or rollback is a later commit).</summary>
    public string? ConfigCommit { get; set; }
    public required string RequestedById { get; set; }
    public required string RequestedByName { get; set; }
    public DeploymentState State { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    public string? FailureReason { get; set; }
    public bool CancelRequested { get; set; }
    /// <summary>The worker running it holds it until then; a lapsed lease means the worker died and another may take over.</summary>
    public DateTime? LeaseUntil { get; set; }
    public int Attempts { get; set; }
    /// <summary>For a deployment that waits for its image (<see cref="DeploymentState.WaitingForImage"/>): when it gives up. Null for any other.</summary>
    public DateTime? ImageWaitUntil { get; set; }
    /// <summary>When the registry was last asked for the awaited image.</summary>
    public DateTime? ImageCheckedAt { get; set; }
    /// <summary>How often it was asked: the next check waits 15 s doubled that often, at most 5 min.</summary>
    public int ImageChecks { get; set; }
    public List<DeploymentStep> Steps { get; set; } = [];
}

public enum DeploymentState
{
    Queued = 1,
    Running = 2,
    Succeeded = 3,
    Failed = 4,
    Cancelled = 5,
    /// <summary>Holds its slot and waits for CI to push its image; starts (becomes Queued) when the registry has it.</summary>
    WaitingForImage = 6,
}

public sealed class DeploymentStep
{
    public long Id { get; set; }
    public long DeploymentId { get; set; }
    public StepName Name { get; set; }
    public StepState State { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    public string Message { get; set; } = "";
}

public enum StepName
{
    Resolve = 1,
    Apply = 2,
    Rollout = 3,
    Verify = 4,
}

public enum StepState
{
    Running = 1,
    Succeeded = 2,
    Failed = 3,
}

/// <summary>
/// One person waiting for a slot: for a named slot, or for any (<see cref="SlotId"/> null). When a fitting
/// slot frees, the first waiting entry by join order gets it: the entry is marked served in the same
/// transaction that creates their hold and queues their deployment, so a hand-over happens exactly once.
/// A person has at most one waiting entry per app (unique index over waiting entries).
/// </summary>
public sealed class WaitlistEntry
{
    public long Id { get; set; }
    public int? SlotId { get; set; }
    public Slot? Slot { get; set; }
    public required string UserId { get; set; }
    public required string UserName { get; set; }
    public required string App { get; set; }
    public required string Branch { get; set; }
    public required string Purpose { get; set; }
    /// <summary>How long the hold lasts when the entry is served; null: the default hold length then.</summary>
    public TimeSpan? HoldFor { get; set; }

    public DateTime JoinedAt { get; set; }
    public WaitlistState State { get; set; }
    /// <summary>When the entry was served or left.</summary>
    public DateTime? EndedAt { get; set; }
    /// <summary>Who took the entry out of the queue when it was not served: its owner or an admin.</summary>
    public string? EndedByName { get; set; }
    /// <summary>The hold and deployment the entry became when it was served.</summary>
    public long? HoldId { get; set; }
    public long? DeploymentId { get; set; }
}

public enum WaitlistState
{
    Waiting = 1,
    Served = 2,
    Left = 3,
}

/// <summary>
/// A personal access token for machines (CI). Only the SHA-256 hash of the secret is stored; the secret is
/// shown once, at creation. The token acts as its creator with the roles they had when creating it.
/// </summary>
public sealed class PersonalAccessToken
{
    public long Id { get; set; }
    public required string OwnerId { get; set; }
    public required string OwnerName { get; set; }
    /// <summary>Comma-separated portal roles of the creator at creation time.</summary>
    public required string Roles { get; set; }
    public required string Name { get; set; }
    /// <summary>Lower-case hex SHA-256 of the whole secret.</summary>
    public required string Hash { get; set; }
    /// <summary>The first characters of the secret, so people can tell their tokens apart.</summary>
    public required string Prefix { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
}

/// <summary>
/// A signed-in browser session, kept server-side: the cookie carries only <see cref="Key"/>. Sign-out, expiry, an
/// admin's revocation or a refused token refresh set <see cref="EndedAt"/>, which every replica and every open page
/// then sees. <see cref="Ticket"/> holds the principal and the identity provider's tokens, protected with the
/// portal's data-protection keys.
/// </summary>
public sealed class PortalSession
{
    public required string Key { get; set; }
    public required string SubjectId { get; set; }
    public required string Name { get; set; }
    /// <summary>Comma-separated portal roles, sorted, as the ticket carries them now.</summary>
    public required string Roles { get; set; }
    public required byte[] Ticket { get; set; }
    /// <summary>Bumped whenever <see cref="Ticket"/> changes (a token refresh), so a stale copy cannot overwrite a newer one.</summary>
    public int Version { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime IssuedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    /// <summary>When the identity provider's tokens are due for a refresh; null without an OpenID Connect session.</summary>
    public DateTime? RefreshDueAt { get; set; }
    /// <summary>While set and in the future, one request (on any replica) is refreshing the tokens; others wait their turn.</summary>
    public DateTime? RefreshLeaseUntil { get; set; }
    public DateTime? EndedAt { get; set; }
    public string? EndReason { get; set; }
}

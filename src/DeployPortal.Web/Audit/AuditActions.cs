namespace DeployPortal.Web.Audit;

/// <summary>The action names written to the audit log.</summary>
public static class AuditActions
{
    public const string Claim = "claim";
    public const string Extend = "extend";
    public const string Release = "release";
    public const string QaDone = "qa-done";
    public const string ForceRelease = "force-release";
    public const string Expire = "expire";
    public const string IdleEnd = "idle-end";
    public const string IdleAsk = "idle-ask";
    public const string Keep = "keep";
    public const string Sleep = "sleep";
    public const string Wake = "wake";
    public const string Renew = "renew";
    public const string Remind = "remind";
    public const string QueueJoin = "queue-join";
    public const string QueueLeave = "queue-leave";
    public const string QueueServed = "queue-served";
    public const string Deploy = "deploy";
    public const string Cancel = "cancel";
    public const string SlotAdded = "slot-added";
    public const string SlotEdited = "slot-edited";
    public const string SlotEnabled = "slot-enabled";
    public const string SlotDisabled = "slot-disabled";
    public const string ElasticCreated = "elastic-created";
    public const string ElasticRemoved = "elastic-removed";
    public const string ElasticBudget = "elastic-budget";
    public const string SignIn = "sign-in";
    public const string SignInRefused = "sign-in-refused";
    public const string SessionEnded = "session-ended";
    public const string Denied = "denied";
    public const string TokenCreated = "token-created";
    public const string TokenRevoked = "token-revoked";
    public const string TokenRefused = "token-refused";

    /// <summary>The kind of each action, for the history's filter and its colours.</summary>
    public static HistoryKind KindOf(string action) => action switch
    {
        Deploy or Cancel => HistoryKind.Deployments,
        QueueJoin or QueueLeave or QueueServed => HistoryKind.Queue,
        SlotAdded or SlotEdited or SlotEnabled or SlotDisabled or ElasticCreated or ElasticRemoved or ElasticBudget => HistoryKind.Slots,
        SignIn or SignInRefused or SessionEnded or Denied or TokenCreated or TokenRevoked or TokenRefused => HistoryKind.Security,
        _ => HistoryKind.Holds,
    };

    /// <summary>The action in a person's words, for the history page (the CSV export keeps the code).</summary>
    public static string Label(string action) => action switch
    {
        Claim => "claimed",
        Extend => "extended",
        Release => "released",
        QaDone => "QA done",
        ForceRelease => "taken back",
        Expire => "expired",
        IdleEnd => "given back, idle",
        IdleAsk => "asked: keep or release?",
        Keep => "kept",
        Sleep => "put to sleep",
        Wake => "woken",
        Renew => "renewed by a deploy",
        Remind => "reminded",
        QueueJoin => "joined the queue",
        QueueLeave => "left the queue",
        QueueServed => "served from the queue",
        Deploy => "deployed",
        Cancel => "cancelled a deployment",
        SlotAdded => "slot added",
        SlotEdited => "slot edited",
        SlotEnabled => "slot opened",
        SlotDisabled => "slot closed",
        ElasticCreated => "elastic slot made",
        ElasticRemoved => "elastic slot removed",
        ElasticBudget => "elastic budget changed",
        SignIn => "signed in",
        SignInRefused => "sign-in refused",
        SessionEnded => "session ended",
        Denied => "refused",
        TokenCreated => "token created",
        TokenRevoked => "token revoked",
        TokenRefused => "token refused",
        _ => action,
    };

    /// <summary>Every action of a kind, for queries.</summary>
    public static IReadOnlyList<string> OfKind(HistoryKind kind) => All.Where(a => KindOf(a) == kind).ToList();

    public static readonly IReadOnlyList<string> All =
    [
        Claim, Extend, Release, QaDone, ForceRelease, Expire, IdleEnd, IdleAsk, Keep, Sleep, Wake, Renew, Remind,
        QueueJoin, QueueLeave, QueueServed, Deploy, Cancel, SlotAdded, SlotEdited, SlotEnabled, SlotDisabled,
        ElasticCreated, ElasticRemoved, ElasticBudget,
        SignIn, SignInRefused, SessionEnded, Denied, TokenCreated, TokenRevoked, TokenRefused,
    ];
}

/// <summary>What the history can be narrowed to. Sign-ins and tokens are left out unless asked for: they are most rows.</summary>
public enum HistoryKind
{
    Holds,
    Deployments,
    Queue,
    Slots,
    Security,
}

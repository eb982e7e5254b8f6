namespace DeployPortal.Web.Slots;

/// <summary>Why a person may not deploy into a slot; <see cref="None"/> when they may.</summary>
public enum DeployRefusal
{
    None,
    Disabled,
    HeldByOther,
}

/// <summary>
/// The one rule for deploying into a slot, for someone whose role may hold slots: the slot is enabled, and it is free,
/// held by them, or they are an admin (who may deploy into anyone's hold). <see cref="DeploymentService"/> enforces it;
/// the deploy form and the board's Deploy button only offer what it allows.
/// </summary>
public static class SlotDeployRule
{
    /// <param name="holderId">Who holds the slot now, or null when nobody does.</param>
    public static DeployRefusal Check(bool enabled, string? holderId, string? actorId, bool canAdminister) =>
        !enabled ? DeployRefusal.Disabled
        : holderId is not null && holderId != actorId && !canAdminister ? DeployRefusal.HeldByOther
        : DeployRefusal.None;

    public static bool Allows(bool enabled, string? holderId, string? actorId, bool canAdminister) =>
        Check(enabled, holderId, actorId, canAdminister) == DeployRefusal.None;
}

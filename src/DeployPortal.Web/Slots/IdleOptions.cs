namespace DeployPortal.Web.Slots;

/// <summary>Bound from <c>Idle</c>: when a held slot counts as unused, and what the portal may do about it.</summary>
public sealed class IdleOptions
{
    public const string Section = "Idle";

    /// <summary>A hold with no deploy, extension, or page or log view of its slot for this long is shown as idle.</summary>
    public TimeSpan After { get; set; } = TimeSpan.FromHours(2);

    /// <summary>When set, a hold idle for this long is ended (as if it expired), so the next person in line gets the slot. Off by default.</summary>
    public TimeSpan? ReleaseAfter { get; set; }

    /// <summary>Whether the board offers to sleep a held slot (scale its apps to zero) and to wake it again.</summary>
    public bool AllowSleep { get; set; } = true;
}

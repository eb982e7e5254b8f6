namespace DeployPortal.Web.Slots;

/// <summary>Bound from <c>Holds</c>: how long a slot may be held.</summary>
public sealed class HoldOptions
{
    public const string Section = "Holds";

    /// <summary>Length of a new hold when the claimant does not choose one.</summary>
    public TimeSpan DefaultDuration { get; set; } = TimeSpan.FromHours(4);

    /// <summary>
    /// Longest a hold may run from now: a claim or an extension can never set its end further away than
    /// this. Extending again later is allowed, so an active tester keeps the slot and a forgotten one loses it.
    /// </summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The board warns when less than this is left.</summary>
    public TimeSpan WarnBefore { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Durations offered on the claim and extend menus (each capped by <see cref="MaxDuration"/>).</summary>
    public List<TimeSpan> Choices { get; set; } = [TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(4), TimeSpan.FromHours(8), TimeSpan.FromHours(24)];
}

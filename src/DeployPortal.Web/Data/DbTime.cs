namespace DeployPortal.Web.Data;

/// <summary>
/// PostgreSQL keeps times to the microsecond, .NET to 100 ns. Hold times are made at the database's precision,
/// so a time a caller got back (a claim's <c>until</c>, sent again as <c>seenUntil</c>) is the time stored.
/// </summary>
public static class DbTime
{
    public static DateTime Truncate(DateTime time) => new(time.Ticks - time.Ticks % TimeSpan.TicksPerMicrosecond, time.Kind);

    public static DateTime UtcNow(TimeProvider clock) => Truncate(clock.GetUtcNow().UtcDateTime);
}

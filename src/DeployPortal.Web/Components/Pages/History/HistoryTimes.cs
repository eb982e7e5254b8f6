using System.Globalization;
using System.Text.RegularExpressions;
using DeployPortal.Web.Components.Shared;

namespace DeployPortal.Web.Components.Pages.History;

/// <summary>
/// An event's details in the reader's terms: the UTC times written into them when they were recorded
/// ("until 2026-12-04 16:30:00Z") shown like the When column ("16:30" today, "Fri 4 Dec 16:30" otherwise, in the
/// reader's zone), so a row never mixes two formats. The stored text (and the CSV export) keeps UTC.
/// </summary>
internal static partial class HistoryTimes
{
    public static string InZone(string details, TimeZoneInfo? zone, DateTime nowUtc) =>
        UtcTime().Replace(details, m =>
            DateTime.TryParseExact(m.Value, ["yyyy-MM-dd HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss'Z'"], CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var utc)
                ? LocalTime.Format(utc, zone, nowUtc).Short
                : m.Value);

    [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}Z")]
    private static partial Regex UtcTime();
}

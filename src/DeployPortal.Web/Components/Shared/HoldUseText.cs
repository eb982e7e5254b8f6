using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;

namespace DeployPortal.Web.Components.Shared;

/// <summary>
/// Why a hold counts as in use or idle while the portal gives idle holds back: the last sign of use and when, and
/// when the holder will be asked (or, once asked, when the slot goes back). Worked out as strings for the board's
/// card view model and the slot page, so no component or timer is added per card.
/// </summary>
internal static class HoldUseText
{
    /// <summary>Used this recently, a hold is shown as in use rather than idle.</summary>
    internal static readonly TimeSpan InUseWithin = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The short line ("in use: requests to its apps 3 min ago", "idle 25 min · will be asked at 10:40") and its longer
    /// tooltip; null when the portal does not give holds back (<paramref name="askAfter"/> null) or the hold sleeps.
    /// </summary>
    public static (string Short, string Title)? For(HoldView hold, TimeSpan? askAfter, TimeSpan askWhenQueuedAfter, TimeZoneInfo? zone, DateTime now)
    {
        if (askAfter is not { } ask || hold.SleepingSince is not null)
        {
            return null;
        }

        var what = Describe(hold.LastActivityKind);
        var last = LocalTime.Format(hold.LastActivityAt, zone, now);
        var idleFor = now - hold.LastActivityAt;
        if (hold.KeepDeadline is { } deadline && deadline > now)
        {
            var at = LocalTime.Format(deadline, zone, now);
            return ($"idle {TimeText.Duration(idleFor)} · asked; given back at {at.Short} unless used or kept",
                $"Last sign of use: {what}, {last.Exact}. {hold.HolderName} was asked whether the slot is still needed; any use of it "
                + $"(a page or log view, a deploy, requests to its apps) or \"keep it\" before {at.Exact} keeps it.");
        }

        if (idleFor < InUseWithin)
        {
            return ($"in use: {what} {TimeText.Relative(hold.LastActivityAt, now)}", $"Last sign of use: {what}, {last.Exact}.");
        }

        if (hold.LastActivityAt + ask >= hold.Until)
        {
            return ($"idle {TimeText.Duration(idleFor)}", $"Last sign of use: {what}, {last.Exact}. The hold ends before {hold.HolderName} would be asked about it.");
        }

        var askAt = LocalTime.Format(hold.LastActivityAt + ask, zone, now);
        var queued = ask > askWhenQueuedAfter ? $" (from {LocalTime.Format(hold.LastActivityAt + askWhenQueuedAfter, zone, now).Short} if someone is waiting)" : "";
        return ($"idle {TimeText.Duration(idleFor)} · will be asked at {askAt.Short}",
            $"Last sign of use: {what}, {last.Exact}. If the slot stays unused, {hold.HolderName} is asked at {askAt.Short}{queued} "
            + "whether it is still needed, and without an answer it is given back.");
    }

    /// <summary>The kind of use in a few words.</summary>
    public static string Describe(ActivityKind kind) => kind switch
    {
        ActivityKind.PageView => "slot page or logs viewed",
        ActivityKind.Deploy => "a deploy",
        ActivityKind.AppTraffic => "requests to its apps",
        ActivityKind.Visit => "its app opened while asleep",
        ActivityKind.Keep => "kept when asked",
        ActivityKind.Extend => "extended",
        ActivityKind.Wake => "woken",
        _ => "claimed",
    };
}

namespace DeployPortal.Web.Common;

/// <summary>Times in a person's terms: "2 h 30 min", "in 25 min", "3 min ago".</summary>
public static class TimeText
{
    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = span.Negate();
        }

        if (span < TimeSpan.FromMinutes(1))
        {
            return "less than a minute";
        }

        var days = (int)span.TotalDays;
        var hours = span.Hours;
        // Round to whole minutes so "1 h 59 min 59 s" reads "2 h", the way a person would say it.
        var minutes = (int)Math.Round(span.TotalMinutes - Math.Floor(span.TotalHours) * 60);
        if (minutes == 60)
        {
            minutes = 0;
            hours++;
            if (hours == 24)
            {
                hours = 0;
                days++;
            }
        }

        return (days, hours, minutes) switch
        {
            ( > 0, 0, _) => $"{days} d",
            ( > 0, _, _) => $"{days} d {hours} h",
            (0, > 0, 0) => $"{hours} h",
            (0, > 0, _) => $"{hours} h {minutes} min",
            _ => $"{minutes} min",
        };
    }

    /// <summary>"in 25 min" for a future time, "25 min ago" for a past one.</summary>
    public static string Relative(DateTime at, DateTime now) =>
        at > now ? $"in {Duration(at - now)}" : $"{Duration(now - at)} ago"; // "now" itself has just happened
}

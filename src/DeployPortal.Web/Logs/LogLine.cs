using System.Globalization;

namespace DeployPortal.Web.Logs;

/// <summary>Which log stream: one container of one pod (the unit the hub shares between viewers).</summary>
public sealed record PodLogKey(string Namespace, string Pod, string Container);

/// <summary>One line as kubelet served it. <see cref="UnixNanos"/> orders lines and resumes a dropped follow.</summary>
public sealed record LogLine(string Pod, string Container, long UnixNanos, string Text)
{
    public DateTime Time => DateTime.UnixEpoch.AddTicks(UnixNanos / 100);

    /// <summary>The kubelet prefix, RFC3339 with nine fractional digits, e.g. <c>2026-11-26T15:56:30.123456789Z</c>.</summary>
    public string Timestamp => KubeTime.Format(UnixNanos);
}

/// <summary>Where a stream is; every event a subscriber reads carries it, so "reconnecting…" is in order with the lines.</summary>
public enum LogStreamState
{
    Connecting,
    Live,
    Reconnecting,

    /// <summary>The pod is gone (or the hub stopped); no more lines will come.</summary>
    Ended,
}

/// <summary>A line (when <see cref="Line"/> is set) or a state change only.</summary>
public readonly record struct LogEvent(LogLine? Line, LogStreamState State);

/// <summary>kubelet's timestamps: RFC3339 with up to nine fractional digits, as Unix nanoseconds.</summary>
public static class KubeTime
{
    public static string Format(long unixNanos)
    {
        var seconds = DateTime.UnixEpoch.AddTicks(unixNanos / 1_000_000_000 * TimeSpan.TicksPerSecond);
        return seconds.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "." + (unixNanos % 1_000_000_000).ToString("D9", CultureInfo.InvariantCulture) + "Z";
    }

    /// <summary>Splits "timestamp text" as kubelet writes it with <c>timestamps=true</c>.</summary>
    public static bool TrySplit(string line, out long unixNanos, out string text)
    {
        var space = line.IndexOf(' ');
        var stamp = space < 0 ? line : line[..space];
        text = space < 0 ? "" : line[(space + 1)..];
        return TryParse(stamp, out unixNanos);
    }

    public static bool TryParse(string s, out long unixNanos) => TryParseKubelet(s, out unixNanos) || TryParseAny(s, out unixNanos);

    /// <summary>The fixed shape kubelet writes (<c>2006-01-02T15:04:05.000000000Z</c>), parsed without allocating: every line has one.</summary>
    private static bool TryParseKubelet(ReadOnlySpan<char> s, out long unixNanos)
    {
        unixNanos = 0;
        if (s.Length != 30 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[29] != 'Z')
        {
            return false;
        }

        if (!Digits(s[..4], out var year) || !Digits(s[5..7], out var month) || !Digits(s[8..10], out var day) || !Digits(s[11..13], out var hour)
            || !Digits(s[14..16], out var minute) || !Digits(s[17..19], out var second) || !Digits(s[20..29], out var nanos)
            || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth((int)year, (int)month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var days = new DateOnly((int)year, (int)month, (int)day).DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
        unixNanos = ((days * 24L + hour) * 3600 + minute * 60 + second) * 1_000_000_000 + nanos;
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> s, out long value)
    {
        value = 0;
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = value * 10 + (c - '0');
        }

        return s.Length > 0 && (s.Length < 4 || value >= 1);
    }

    private static bool TryParseAny(string s, out long unixNanos)
    {
        unixNanos = 0;
        if (s.Length < 20 || s[^1] != 'Z')
        {
            return false;
        }

        var dot = s.IndexOf('.');
        var whole = dot < 0 ? s[..^1] : s[..dot];
        var fraction = dot < 0 ? "" : s[(dot + 1)..^1];
        if (fraction.Length > 9 || !fraction.All(char.IsAsciiDigit)
            || !DateTime.TryParseExact(whole, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
        {
            return false;
        }

        var nanos = fraction.Length == 0 ? 0 : long.Parse(fraction.PadRight(9, '0'), CultureInfo.InvariantCulture);
        unixNanos = (t.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond * 1_000_000_000 + nanos;
        return true;
    }
}

/// <summary>
/// Which part of a container's log a one-off read returns: the last <see cref="TailLines"/> lines and/or those written
/// in the last <see cref="Since"/>; null means no bound. <see cref="Previous"/> reads the run before the last restart.
/// </summary>
public sealed record LogRange(int? TailLines = null, TimeSpan? Since = null, bool Previous = false);

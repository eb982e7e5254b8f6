using System.Globalization;
using System.Text;

namespace DeployPortal.KubeEmulator.Logs;

/// <summary>One log line: kubelet-style timestamp prefix and text, pre-encoded as UTF-8 with a trailing newline.</summary>
internal readonly record struct LogEntry(long UnixNanos, byte[] Utf8)
{
    /// <summary>Length of "2006-01-02T15:04:05.000000000Z " (RFC3339 with 9 fractional digits, as kubelet writes it).</summary>
    public const int PrefixLength = 31;

    public static LogEntry Create(long unixNanos, string line)
    {
        var bytes = new byte[PrefixLength + Encoding.UTF8.GetByteCount(line) + 1];
        WriteTimestamp(unixNanos, bytes);
        bytes[PrefixLength - 1] = (byte)' ';
        Encoding.UTF8.GetBytes(line, 0, line.Length, bytes, PrefixLength);
        bytes[^1] = (byte)'\n';
        return new LogEntry(unixNanos, bytes);
    }

    public static string FormatTimestamp(long unixNanos)
    {
        var b = new byte[PrefixLength - 1];
        WriteTimestamp(unixNanos, b);
        return Encoding.ASCII.GetString(b);
    }

    private static void WriteTimestamp(long unixNanos, Span<byte> dest)
    {
        var dt = DateTime.UnixEpoch.AddTicks(unixNanos / 100);
        dt.TryFormat(dest, out _, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        dest[19] = (byte)'.';
        var frac = unixNanos % 1_000_000_000;
        for (var i = 28; i >= 20; i--)
        { dest[i] = (byte)('0' + frac % 10); frac /= 10; }
        dest[29] = (byte)'Z';
    }

    /// <summary>Parses RFC3339 with up to nine fractional digits into Unix nanoseconds.</summary>
    public static bool TryParseTimestamp(string s, out long unixNanos)
    {
        unixNanos = 0;
        var dot = s.IndexOf('.');
        string frac = "";
        var rest = s;
        if (dot > 0)
        {
            var end = dot + 1;
            while (end < s.Length && char.IsAsciiDigit(s[end]))
            {
                end++;
            }

            frac = s[(dot + 1)..end];
            rest = s[..dot] + s[end..];
        }
        if (!DateTimeOffset.TryParse(rest, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
        {
            return false;
        }

        var nanos = frac.Length == 0 ? 0 : long.Parse(frac.PadRight(9, '0')[..9], CultureInfo.InvariantCulture);
        unixNanos = (t.UtcTicks - DateTime.UnixEpoch.Ticks) * 100 + nanos;
        return true;
    }
}

/// <summary>
/// The bounded log of one container instance (one run; a restart starts a new buffer and keeps the last one as
/// "previous"). Lines have strictly increasing timestamps, so a follower can resume with sinceTime = last + 1 ns.
/// </summary>
internal sealed class LogBuffer(int capacity, TimeSpan? timestampResolution = null)
{
    private readonly object _lock = new();
    private readonly LogEntry[] _ring = new LogEntry[Math.Max(16, capacity)];
    private readonly long _resolutionNanos = timestampResolution is { Ticks: > 0 } r ? r.Ticks * 100 : 0;
    private long _first; // sequence number of the oldest retained line
    private long _next;  // sequence number of the next line
    private long _lastNanos;
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Closed { get; private set; }
    public int Generation { get; private set; }
    public long Written { get { lock (_lock) { return _next; } } }
    public long LinesSinceRotation { get; private set; }

    public void Append(long nowNanos, IReadOnlyList<string> lines, long spanNanos = 0)
    {
        if (lines.Count == 0)
        {
            return;
        }

        TaskCompletionSource signal;
        lock (_lock)
        {
            if (Closed)
            {
                return;
            }

            for (var i = 0; i < lines.Count; i++)
            {
                var ts = nowNanos - spanNanos + spanNanos * (i + 1) / lines.Count;
                if (_resolutionNanos > 0)
                {
                    ts -= ts % _resolutionNanos;
                    if (ts < _lastNanos)
                    {
                        ts = _lastNanos; // coarse clocks repeat a timestamp, never go back
                    }
                }
                else if (ts <= _lastNanos)
                {
                    ts = _lastNanos + 1;
                }

                _lastNanos = ts;
                _ring[_next % _ring.Length] = LogEntry.Create(ts, lines[i]);
                _next++;
                if (_next - _first > _ring.Length)
                {
                    _first = _next - _ring.Length;
                }
            }
            LinesSinceRotation += lines.Count;
            signal = _signal;
            _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        signal.TrySetResult();
    }

    /// <summary>First sequence number to stream given tailLines and a since bound (inclusive, as kubelet does).</summary>
    public long StartSequence(long? tailLines, long? sinceNanos)
    {
        lock (_lock)
        {
            var start = _first;
            if (tailLines is >= 0)
            {
                start = Math.Max(start, _next - tailLines.Value);
            }

            if (sinceNanos is { } since)
            {
                long lo = start, hi = _next;
                while (lo < hi)
                {
                    var mid = lo + (hi - lo) / 2;
                    if (_ring[mid % _ring.Length].UnixNanos < since)
                    {
                        lo = mid + 1;
                    }
                    else
                    {
                        hi = mid;
                    }
                }
                start = lo;
            }
            return start;
        }
    }

    /// <summary>Copies up to <paramref name="max"/> lines from <paramref name="seq"/> (skipping lines already dropped).</summary>
    public long Read(long seq, int max, List<LogEntry> into)
    {
        lock (_lock)
        {
            if (seq < _first)
            {
                seq = _first;
            }

            var end = Math.Min(_next, seq + max);
            for (var s = seq; s < end; s++)
            {
                into.Add(_ring[s % _ring.Length]);
            }

            return end;
        }
    }

    /// <summary>Completes when lines are appended, the buffer rotates, or it closes.</summary>
    public Task WaitAsync(long seq)
    {
        lock (_lock)
        {
            return seq < _next || Closed ? Task.CompletedTask : _signal.Task;
        }
    }

    public bool HasMore(long seq)
    {
        lock (_lock)
        {
            return seq < _next;
        }
    }

    /// <summary>Simulated rotation: drops every retained line and ends current followers.</summary>
    public void Rotate()
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            _first = _next;
            Generation++;
            LinesSinceRotation = 0;
            signal = _signal;
            _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        signal.TrySetResult();
    }

    public void Close()
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            Closed = true;
            signal = _signal;
        }
        signal.TrySetResult();
    }
}

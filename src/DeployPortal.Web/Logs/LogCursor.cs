namespace DeployPortal.Web.Logs;

/// <summary>
/// How far a reader of one container's timestamped log has got: the last timestamp delivered and how many lines
/// carried it. Several lines can share a timestamp (coarse runtime clocks; API servers that honour
/// <c>sinceTime</c> only to the second), so "skip what is not newer than the last line" would lose lines and
/// "resume after it" would too. Instead a reader resumes <em>at</em> the last timestamp and skips exactly the
/// lines it has already delivered there (<see cref="Resume"/>).
/// </summary>
public struct LogCursor
{
    /// <summary>Unix nanoseconds of the last line delivered; 0 before the first.</summary>
    public long Nanos { get; private set; }

    /// <summary>Lines delivered that carried <see cref="Nanos"/>.</summary>
    public int AtNanos { get; private set; }

    public readonly bool IsStart => Nanos == 0 && AtNanos == 0;

    public void Advance(long nanos)
    {
        if (nanos > Nanos)
        {
            (Nanos, AtNanos) = (nanos, 1);
        }
        else if (nanos == Nanos)
        {
            AtNanos++;
        }
    }

    /// <summary>A filter for a stream re-read from <see cref="Nanos"/> (inclusive) that lets only new lines through.</summary>
    public readonly LogResumeFilter Resume() => new(Nanos, AtNanos);
}

/// <summary>See <see cref="LogCursor.Resume"/>. Mutable: it counts the repeated lines it has skipped.</summary>
public struct LogResumeFilter(long nanos, int seenAtNanos)
{
    private int _skipped;

    public bool IsNew(long lineNanos)
    {
        if (lineNanos < nanos)
        {
            return false;
        }

        if (lineNanos == nanos && _skipped < seenAtNanos)
        {
            _skipped++;
            return false;
        }

        return true;
    }
}

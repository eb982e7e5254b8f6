namespace DeployPortal.Web.Logs;

/// <summary>
/// One pod a <see cref="LogFeed"/> follows: its subscription, the state of its stream, and, when the feed started
/// with a read of earlier lines, the wait for that read and the resume filter that lets only newer live lines
/// through after it. Not thread-safe: used on the feed's thread only.
/// </summary>
internal sealed class LogFeedPod(PodLogSubscription subscription, bool catchingUp)
{
    private LogResumeFilter _resume;
    private bool _resuming;

    public PodLogSubscription Subscription => subscription;

    public LogStreamState State { get; private set; } = LogStreamState.Connecting;

    /// <summary>While the earlier lines are read, live lines wait in the subscription.</summary>
    public bool CatchingUp { get; private set; } = catchingUp;

    /// <summary>The earlier lines are in: from now on only lines <paramref name="resume"/> lets through are taken.</summary>
    public void CaughtUp(LogResumeFilter resume)
    {
        (_resume, _resuming, CatchingUp) = (resume, true, false);
    }

    /// <summary>Adds the new lines that arrived to <paramref name="batch"/>; true when the stream's state changed.</summary>
    public bool Drain(List<LogLine> batch)
    {
        if (CatchingUp)
        {
            return false;
        }

        var changed = false;
        while (subscription.Reader.TryRead(out var e))
        {
            if (e.Line is { } line && (!_resuming || _resume.IsNew(line.UnixNanos)))
            {
                batch.Add(line);
            }

            if (State != e.State)
            {
                State = e.State;
                changed = true;
            }
        }

        return changed;
    }
}

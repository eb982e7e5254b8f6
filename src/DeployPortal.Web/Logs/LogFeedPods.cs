namespace DeployPortal.Web.Logs;

/// <summary>
/// The pods a <see cref="LogFeed"/> follows, by name: their combined stream state, the lines the hub dropped for
/// them, and the draining of what arrived. Not thread-safe: used on the feed's thread only.
/// </summary>
internal sealed class LogFeedPods
{
    private readonly Dictionary<string, LogFeedPod> _pods = [];

    /// <summary>Lines the hub had to drop because this viewer fell too far behind.</summary>
    public long Skipped { get; private set; }

    /// <summary>The worst state among the streams: reconnecting wins over connecting over live.</summary>
    public LogStreamState? State =>
        _pods.Count == 0 ? null
        : _pods.Values.Any(p => p.State == LogStreamState.Reconnecting) ? LogStreamState.Reconnecting
        : _pods.Values.Any(p => p.State == LogStreamState.Connecting) ? LogStreamState.Connecting
        : _pods.Values.Any(p => p.State == LogStreamState.Live) ? LogStreamState.Live
        : LogStreamState.Ended;

    public bool Contains(string name) => _pods.ContainsKey(name);

    public void Add(string name, LogFeedPod pod) => _pods[name] = pod;

    /// <summary>Whether <paramref name="pod"/> is still the one followed under <paramref name="name"/>.</summary>
    public bool IsCurrent(string name, LogFeedPod pod) => _pods.TryGetValue(name, out var current) && ReferenceEquals(current, pod);

    /// <summary>Ends every subscription and forgets the pods.</summary>
    public void Clear()
    {
        foreach (var pod in _pods.Values)
        {
            pod.Subscription.Dispose();
        }

        _pods.Clear();
        Skipped = 0;
    }

    /// <summary>Adds the new lines of every pod to <paramref name="batch"/>; true when a stream's state or the skipped count changed.</summary>
    public bool Drain(List<LogLine> batch)
    {
        var dirty = false;
        foreach (var pod in _pods.Values)
        {
            dirty |= pod.Drain(batch);
        }

        // Lines the hub had to drop because this page fell too far behind: rare, but never silent.
        var skipped = _pods.Values.Sum(p => p.Subscription.Dropped);
        if (skipped != Skipped)
        {
            Skipped = skipped;
            dirty = true;
        }

        return dirty;
    }
}

namespace DeployPortal.KubeEmulator;

/// <summary>
/// Settings of one emulator instance. The defaults suit a demo: a pod of a healthy image is Ready
/// about 2.5 s after its Deployment is applied, and each container writes a few log lines per second.
/// Tests scale the delays down (tens of milliseconds) to stay fast.
/// </summary>
public sealed class EmulatorOptions
{
    /// <summary>Port to bind on 127.0.0.1; 0 picks a free port. Used by <see cref="EmulatorServer.StartAsync"/>.</summary>
    public int Port { get; set; }

    /// <summary>How long a new pod stays Pending (unscheduled) before it is bound to the node.</summary>
    public TimeSpan PodPendingDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a scheduled pod shows ContainerCreating (image pull and start) before it runs.</summary>
    public TimeSpan ContainerCreatingDelay { get; set; } = TimeSpan.FromMilliseconds(1000);

    /// <summary>How long a running container takes to pass its readiness check.</summary>
    public TimeSpan ReadyDelay { get; set; } = TimeSpan.FromMilliseconds(1000);

    /// <summary>How long a crashing container (image tag <c>crash</c>) runs before it exits with code 1.</summary>
    public TimeSpan CrashAfter { get; set; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>First back-off after a crash or a failed pull; it doubles each time up to <see cref="MaxBackOff"/> (kubelet: 10 s, 5 min).</summary>
    public TimeSpan BackOffBase { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Upper bound of the crash/pull back-off.</summary>
    public TimeSpan MaxBackOff { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often controllers reconcile (pod phases, ReplicaSets, Deployment status, garbage collection).</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How often the Argo CD-like Application controller looks at each Application's repository for a new revision
    /// (Argo CD polls every 3 minutes unless a webhook tells it sooner); it also reconciles when an Application changes.
    /// </summary>
    public TimeSpan ApplicationRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Used when a Deployment does not set <c>spec.progressDeadlineSeconds</c> (Kubernetes: 600).</summary>
    public int DefaultProgressDeadlineSeconds { get; set; } = 600;

    /// <summary>Log lines each running container writes per second (fractions allowed; at least 50,000 is supported for benchmarks).</summary>
    public double LogLinesPerSecond { get; set; } = 2;

    /// <summary>Lines kept per container instance; older lines are dropped (as if rotated away).</summary>
    public int LogBufferLines { get; set; } = 100_000;

    /// <summary>When set, a container's log "rotates" after this many lines: the buffer is emptied and followers are closed, as kubelet does.</summary>
    public int? LogRotateAfterLines { get; set; }

    /// <summary>
    /// When set, log timestamps are truncated to this resolution, so lines written close together share one
    /// timestamp (as with runtimes that stamp in microseconds or coarser). Null: every line gets its own nanosecond.
    /// </summary>
    public TimeSpan? LogTimestampResolution { get; set; }

    /// <summary>How often the log writer appends lines (high rates are written in batches per tick).</summary>
    public TimeSpan LogTick { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Server-side watch timeout when the client does not send <c>timeoutSeconds</c> (a real API server uses 30-60 min).</summary>
    public TimeSpan WatchTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Interval of BOOKMARK events for watches that ask for <c>allowWatchBookmarks=true</c>.</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many change events are kept for resuming watches; a watch from an older resourceVersion gets 410 Gone.</summary>
    public int WatchHistorySize { get; set; } = 10_000;

    /// <summary>Events (the core/v1 kind) kept per namespace; the oldest are deleted beyond this.</summary>
    public int MaxEventsPerNamespace { get; set; } = 500;

    /// <summary>Kubernetes version reported by <c>/version</c>.</summary>
    public string KubernetesVersion { get; set; } = "v1.32.4";

    /// <summary>
    /// Optional: pull images that name this registry as a kubelet would (a <c>HEAD</c> of the manifest), so a missing
    /// image gives ErrImagePull / ImagePullBackOff and appears once pushed. Unset: no lookups, images behave by name only.
    /// </summary>
    public Controllers.EmulatorRegistryOptions? Registry { get; set; }

    /// <summary>Fault injection, mutable at run time (see <see cref="EmulatorServer.Faults"/>).</summary>
    public FaultOptions Faults { get; set; } = new();

    /// <summary>These settings on <paramref name="port"/>, as a copy: a host's configured options stay as configured.</summary>
    public EmulatorOptions OnPort(int port)
    {
        var copy = (EmulatorOptions)MemberwiseClone();
        copy.Port = port;
        return copy;
    }
}

/// <summary>
/// Faults injected into API requests. All members can be changed while the server runs; a test switches a
/// fault on, observes the client, and switches it off. Discovery and <c>/version</c> requests are never faulted
/// unless <see cref="IncludeDiscovery"/> is set, so clients can still connect.
/// </summary>
public sealed class FaultOptions
{
    private int _failNext;
    private int _failNextStatus = 500;

    /// <summary>Fraction (0..1) of requests answered with an error from <see cref="ErrorStatusCodes"/>.</summary>
    public double ErrorRate { get; set; }

    /// <summary>Status codes picked from (at random) for <see cref="ErrorRate"/>; 500, 503 and 429 have realistic bodies.</summary>
    public int[] ErrorStatusCodes { get; set; } = [500, 503, 429];

    /// <summary>Retry-After seconds sent with 429 and 503.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Latency added before each request is handled.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Fraction (0..1) of requests that hang: no response until the client gives up or <see cref="HangFor"/> passes.</summary>
    public double HangRate { get; set; }

    /// <summary>How long a hanging request hangs before the server drops the connection.</summary>
    public TimeSpan HangFor { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Abort (drop the TCP connection of) each watch stream after this many events.</summary>
    public int? DropWatchAfterEvents { get; set; }

    /// <summary>Abort each watch stream after this long.</summary>
    public TimeSpan? DropWatchAfter { get; set; }

    /// <summary>Abort each log stream after this many lines.</summary>
    public int? DropLogsAfterLines { get; set; }

    /// <summary>Abort each log stream after this long.</summary>
    public TimeSpan? DropLogsAfter { get; set; }

    /// <summary>When set, only requests whose path contains this string are faulted (errors, latency, hangs).</summary>
    public string? PathContains { get; set; }

    /// <summary>When set, only requests with this HTTP method are faulted (errors, latency, hangs).</summary>
    public string? Method { get; set; }

    /// <summary>Also fault discovery (<c>/api</c>, <c>/apis</c>, group versions) and <c>/version</c>.</summary>
    public bool IncludeDiscovery { get; set; }

    /// <summary>Seed of the random source, for repeatable runs.</summary>
    public int? Seed { get; set; }

    /// <summary>Deterministically fail the next <paramref name="count"/> matching requests with <paramref name="statusCode"/>.</summary>
    public void FailNext(int count, int statusCode = 500)
    {
        Volatile.Write(ref _failNextStatus, statusCode);
        Volatile.Write(ref _failNext, count);
    }

    /// <summary>Switches every fault off.</summary>
    public void Reset()
    {
        ErrorRate = 0;
        Latency = TimeSpan.Zero;
        HangRate = 0;
        DropWatchAfterEvents = null;
        DropWatchAfter = null;
        DropLogsAfterLines = null;
        DropLogsAfter = null;
        PathContains = null;
        Method = null;
        IncludeDiscovery = false;
        Volatile.Write(ref _failNext, 0);
    }

    internal bool TryTakeFailNext(out int statusCode)
    {
        statusCode = Volatile.Read(ref _failNextStatus);
        while (true)
        {
            var n = Volatile.Read(ref _failNext);
            if (n <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _failNext, n - 1, n) == n)
            {
                return true;
            }
        }
    }
}

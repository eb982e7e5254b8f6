namespace DeployPortal.Web.Logs;

/// <summary>Where viewers get log lines from; the hub in the app, a channel-fed fake in component tests.</summary>
public interface IPodLogSource
{
    /// <summary>See <see cref="PodLogHub.Subscribe"/>.</summary>
    PodLogSubscription Subscribe(PodLogKey key);

    /// <summary>See <see cref="PodLogHub.ReadAsync"/>.</summary>
    Task<IReadOnlyList<LogLine>> ReadAsync(PodLogKey key, LogRange range, CancellationToken ct);
}

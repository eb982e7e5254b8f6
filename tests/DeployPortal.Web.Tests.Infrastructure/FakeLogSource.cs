using System.Threading.Channels;
using DeployPortal.Web.Logs;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>Hand-fed streams: each subscription reads a channel the test writes to; reads answer what the test set.</summary>
public sealed class FakeLogSource : IPodLogSource
{
    private readonly Dictionary<string, Channel<LogEvent>> _streams = [];

    public List<string> Subscribed { get; } = [];

    public List<PodLogSubscription> Subscriptions { get; } = [];

    public int Disposed { get; private set; }

    public IReadOnlyList<LogLine> Previous { get; set; } = [];

    public IReadOnlyList<LogLine> History { get; set; } = [];

    /// <summary>When set, reads wait for it (and fail with its exception); else they answer at once.</summary>
    public TaskCompletionSource? ReadGate { get; set; }

    public List<LogRange> Reads { get; } = [];

    public async Task<IReadOnlyList<LogLine>> ReadAsync(PodLogKey key, LogRange range, CancellationToken ct)
    {
        Reads.Add(range);
        if (ReadGate is { } gate)
        {
            await gate.Task.WaitAsync(ct);
        }

        return range.Previous ? Previous : History;
    }

    public PodLogSubscription Subscribe(PodLogKey key)
    {
        lock (_streams)
        {
            var channel = Stream(key.Pod);
            Subscribed.Add(key.Pod);
            var subscription = new PodLogSubscription(key, channel.Reader, () =>
            {
                lock (_streams)
                {
                    Disposed++;
                }
            });
            Subscriptions.Add(subscription);
            return subscription;
        }
    }

    public void Write(string pod, LogEvent e)
    {
        lock (_streams)
        {
            Stream(pod).Writer.TryWrite(e);
        }
    }

    private Channel<LogEvent> Stream(string pod)
    {
        if (!_streams.TryGetValue(pod, out var channel))
        {
            _streams[pod] = channel = Channel.CreateUnbounded<LogEvent>();
        }

        return channel;
    }
}

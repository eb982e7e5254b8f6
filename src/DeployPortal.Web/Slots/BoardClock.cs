using System.Collections.Immutable;

namespace DeployPortal.Web.Slots;

/// <summary>
/// The one clock every open board's "expires in 24 min" wording moves with. Each board is due once per
/// <see cref="Period"/>; the boards are spread over the period in <see cref="Groups"/> groups, so they do not all
/// redraw at the same instant, and one timer serves them all. (A timer per board was 6 % of the portal's CPU with
/// 5,000 boards open: the runtime's timer queue scans its timers each time one fires.) Singleton.
/// </summary>
internal sealed class BoardClock : IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(30);
    private const int Groups = 30;

    private readonly ImmutableArray<Action>[] _groups = [.. Enumerable.Repeat(ImmutableArray<Action>.Empty, Groups)];
    private readonly ITimer _timer;
    private int _joined;
    private long _fired;

    public BoardClock(TimeProvider clock) => _timer = clock.CreateTimer(_ => Fire(), null, Period / Groups, Period / Groups);

    /// <summary>Calls <paramref name="onTick"/> once per period from a thread-pool thread until disposed; marshal with <c>InvokeAsync</c>.</summary>
    public IDisposable Subscribe(Action onTick)
    {
        var group = (int)((uint)Interlocked.Increment(ref _joined) % Groups);
        ImmutableInterlocked.Update(ref _groups[group], static (list, h) => list.Add(h), onTick);
        return new Subscription(() => ImmutableInterlocked.Update(ref _groups[group], static (list, h) => list.Remove(h), onTick));
    }

    private void Fire()
    {
        var group = (int)(Interlocked.Increment(ref _fired) % Groups);
        foreach (var onTick in _groups[group])
        {
            // Each board on its own pool thread: one that renders inline would hold up the rest of its group.
            ThreadPool.UnsafeQueueUserWorkItem(static tick => tick(), onTick, preferLocal: false);
        }
    }

    public void Dispose() => _timer.Dispose();
}

using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MudBlazor;

namespace DeployPortal.Web.Common;

/// <summary>
/// Periodic timers that ride on one runtime timer per period. MudBlazor's popover service creates a 500 ms
/// <see cref="PeriodicTimer"/> for every circuit as it is constructed (the layout's MudPopoverProvider asks for it on
/// every page), whether or not the page ever opens a menu. At 5,000 open boards that was 5,000 runtime timers and
/// 10,000 timer fires a second, each a thread-pool work item; <c>TimerQueue.FireNextTimers</c> alone was 4 % of the
/// portal's CPU while slot changes went out (see README, Benchmarks). MudBlazor offers no setting for it, but takes the
/// <see cref="TimeProvider"/> its timer is made from: given this one, each circuit's timer becomes an entry on a shared
/// tick. Only a timer whose first due time equals its period is shared (its first tick may then come sooner, anywhere
/// within one period, which a batching loop does not mind); any other timer is an ordinary system timer.
/// </summary>
public sealed class SharedTickTimeProvider : TimeProvider
{
    public static SharedTickTimeProvider Instance { get; } = new();

    private readonly ConcurrentDictionary<TimeSpan, Tick> _ticks = new();

    /// <summary>Timers currently riding on the shared tick of this period (for tests).</summary>
    public int SharedTimers(TimeSpan period) => _ticks.TryGetValue(period, out var tick) ? tick.Count : 0;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (period <= TimeSpan.Zero || period == Timeout.InfiniteTimeSpan || dueTime != period)
        {
            return System.CreateTimer(callback, state, dueTime, period);
        }

        var entry = new Entry(_ticks.GetOrAdd(period, p => new Tick(p)), callback, state);
        entry.Change(dueTime, period);
        return entry;
    }

    private sealed class Tick
    {
        private readonly ConcurrentDictionary<Entry, byte> _entries = new();
        private readonly ITimer _timer;

        public Tick(TimeSpan period)
        {
            Period = period;
            _timer = System.CreateTimer(_ => Fire(), null, period, period); // lives as long as the process
        }

        public TimeSpan Period { get; }

        public int Count => _entries.Count;

        public void Add(Entry entry) => _entries.TryAdd(entry, 0);

        public void Remove(Entry entry) => _entries.TryRemove(entry, out _);

        private void Fire()
        {
            foreach (var (entry, _) in _entries)
            {
                entry.Fire();
            }
        }
    }

    private sealed class Entry(Tick tick, TimerCallback callback, object? state) : ITimer
    {
        private readonly Lock _gate = new();
        private ITimer? _own; // when changed to a schedule the shared tick does not keep
        private bool _disposed;

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return false;
                }

                tick.Remove(this);
                _own?.Dispose();
                _own = null;
                if (dueTime == period && period == tick.Period)
                {
                    tick.Add(this);
                }
                else if (dueTime != Timeout.InfiniteTimeSpan)
                {
                    _own = System.CreateTimer(callback, state, dueTime, period);
                }

                return true;
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
                tick.Remove(this);
                _own?.Dispose();
                _own = null;
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

public static class SharedTickExtensions
{
    /// <summary>
    /// MudBlazor's popover service, as MudBlazor registered it, with its batching timer on a
    /// <see cref="SharedTickTimeProvider"/> tick (the service is internal to MudBlazor; its constructor takes the
    /// <see cref="TimeProvider"/>). Call after AddMudServices.
    /// </summary>
    public static IServiceCollection ShareMudPopoverTimers(this IServiceCollection services)
    {
        var popovers = services.Single(d => d.ServiceType == typeof(IPopoverService)).ImplementationType
            ?? throw new InvalidOperationException("MudBlazor no longer registers its popover service by type; see SharedTickTimeProvider.");
        return services.Replace(ServiceDescriptor.Scoped(typeof(IPopoverService),
            sp => ActivatorUtilities.CreateInstance(sp, popovers, SharedTickTimeProvider.Instance)));
    }
}

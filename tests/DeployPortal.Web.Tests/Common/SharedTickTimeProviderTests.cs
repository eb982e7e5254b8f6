using DeployPortal.Web.Common;

namespace DeployPortal.Web.Tests.Common;

/// <summary>Periodic timers of one period riding on one shared tick (MudBlazor's per-circuit popover timer).</summary>
public sealed class SharedTickTimeProviderTests
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task PeriodicTimersOfOnePeriod_AllTick_OnOneSharedTick_AndLeaveItWhenDisposed()
    {
        var provider = new SharedTickTimeProvider();
        var timers = Enumerable.Range(0, 3).Select(_ => new PeriodicTimer(Period, provider)).ToList();
        Assert.Equal(3, provider.SharedTimers(Period));

        foreach (var timer in timers)
        {
            Assert.True(await timer.WaitForNextTickAsync().AsTask().WaitAsync(Patience));
            Assert.True(await timer.WaitForNextTickAsync().AsTask().WaitAsync(Patience)); // and keeps ticking
        }

        timers[0].Dispose();
        Assert.Equal(2, provider.SharedTimers(Period));
        Assert.False(await timers[0].WaitForNextTickAsync()); // a disposed PeriodicTimer says so
        timers.ForEach(t => t.Dispose());
        Assert.Equal(0, provider.SharedTimers(Period));
    }

    [Fact]
    public async Task ATimerWhoseFirstDueTimeIsNotItsPeriod_IsAnOrdinaryTimer()
    {
        var provider = new SharedTickTimeProvider();
        var fired = new TaskCompletionSource();

        using var timer = provider.CreateTimer(_ => fired.TrySetResult(), null, TimeSpan.FromMilliseconds(5), Period);

        Assert.Equal(0, provider.SharedTimers(Period));
        await fired.Task.WaitAsync(Patience);
    }

    [Fact]
    public async Task ATimerStopped_LeavesTheTick_AndRejoinsItWhenStartedAgain()
    {
        var provider = new SharedTickTimeProvider();
        var fired = new TaskCompletionSource();
        using var timer = provider.CreateTimer(_ => fired.TrySetResult(), null, Period, Period);
        Assert.Equal(1, provider.SharedTimers(Period));

        Assert.True(timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        Assert.Equal(0, provider.SharedTimers(Period));

        Assert.True(timer.Change(Period, Period));
        Assert.Equal(1, provider.SharedTimers(Period));
        await fired.Task.WaitAsync(Patience);

        timer.Dispose();
        Assert.False(timer.Change(Period, Period));
        Assert.Equal(0, provider.SharedTimers(Period));
    }
}

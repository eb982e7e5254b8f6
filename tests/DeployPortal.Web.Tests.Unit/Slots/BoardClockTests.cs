using DeployPortal.Web.Slots;
using Microsoft.Extensions.Time.Testing;

namespace DeployPortal.Web.Tests.Slots;

public sealed class BoardClockTests
{
    [Fact]
    public async Task EveryBoard_TicksOncePerPeriod_SpreadOverIt_UntilItLeaves()
    {
        var time = new FakeTimeProvider();
        using var clock = new BoardClock(time);
        var ticks = new int[60];
        var fired = new SemaphoreSlim(0);
        var boards = Enumerable.Range(0, ticks.Length)
            .Select(i => clock.Subscribe(() => { Interlocked.Increment(ref ticks[i]); fired.Release(); }))
            .ToList();

        // Half a period: half the boards are due, the rest not yet (the fake timer queues every due tick during Advance).
        time.Advance(BoardClock.Period / 2);
        await ReceiveAsync(fired, ticks.Length / 2);
        Assert.Equal(ticks.Length / 2, ticks.Count(t => t == 1));
        Assert.Equal(ticks.Length / 2, ticks.Count(t => t == 0));

        // A whole period from the start: every board exactly once.
        time.Advance(BoardClock.Period / 2);
        await ReceiveAsync(fired, ticks.Length / 2);
        Assert.All(ticks, t => Assert.Equal(1, t));

        // A board that left is not called again.
        boards[0].Dispose();
        time.Advance(BoardClock.Period);
        await ReceiveAsync(fired, ticks.Length - 1);
        Assert.Equal(1, ticks[0]);
        Assert.All(ticks.Skip(1), t => Assert.Equal(2, t));
    }

    private static async Task ReceiveAsync(SemaphoreSlim fired, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(await fired.WaitAsync(TimeSpan.FromSeconds(10)), $"tick {i + 1} of {count} did not arrive");
        }
    }
}

using System.Collections.Concurrent;
using DeployPortal.Web.Slots;
using Microsoft.Extensions.Logging;

namespace DeployPortal.Web.Tests.Slots;

public sealed class SlotChangeNotifierTests
{
    [Fact]
    public async Task Publish_ToAPageThatClosesWhileItReloads_IsNotAFailure_ButAFailingSubscriberIsLogged()
    {
        var log = new CapturingLogger();
        var notifier = new SlotChangeNotifier(log);
        using var closing = notifier.Subscribe(async _ =>
        {
            await Task.Yield();
            throw new TaskCanceledException("the page's token was cancelled"); // as Board's reload when its circuit closes
        });
        using var broken = notifier.Subscribe(async _ =>
        {
            await Task.Yield();
            throw new InvalidOperationException("broken subscriber");
        });

        notifier.Publish(new SlotChange(1, "claimed"));
        await log.Debug.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await log.Warning.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Each subscriber's outcome is logged once: the cancelled one at debug level only, the broken one as a warning.
        var warning = Assert.Single(log.Warnings);
        Assert.IsType<InvalidOperationException>(warning);
    }

    [Fact]
    public async Task Publish_RunsThePreparationBeforeAnySubscriberHears()
    {
        var notifier = new SlotChangeNotifier(new CapturingLogger());
        var prepared = false;
        var heard = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        notifier.PrepareWith(async () =>
        {
            await Task.Yield();
            prepared = true;
        });
        using var page = notifier.Subscribe(_ =>
        {
            heard.TrySetResult(Volatile.Read(ref prepared));
            return Task.CompletedTask;
        });

        notifier.Publish(new SlotChange(1, "claimed"));

        Assert.True(await heard.Task.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Publish_TellsSubscribersEvenWhenThePreparationFailsOrHangs()
    {
        var log = new CapturingLogger();
        var notifier = new SlotChangeNotifier(log) { PrepareTimeout = TimeSpan.FromMilliseconds(200) };
        var heard = new ConcurrentQueue<string>();
        var both = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var page = notifier.Subscribe(change =>
        {
            heard.Enqueue(change.What);
            if (heard.Count == 2)
            {
                both.TrySetResult();
            }

            return Task.CompletedTask;
        });

        notifier.PrepareWith(() => throw new InvalidOperationException("the database did not answer"));
        notifier.Publish(new SlotChange(1, "claimed"));
        notifier.PrepareWith(() => new TaskCompletionSource().Task); // never completes
        notifier.Publish(new SlotChange(1, "released"));

        await both.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["claimed", "released"], heard.Order());
        Assert.Empty(log.Warnings); // the pages read for themselves; nothing failed that they would not report
    }

    /// <summary>Records what the notifier logs; a stand-in for one class's logger in a unit test.</summary>
    private sealed class CapturingLogger : ILogger<SlotChangeNotifier>
    {
        public ConcurrentQueue<Exception?> Warnings { get; } = new();

        public TaskCompletionSource Debug { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Warning { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Debug)
            {
                Debug.TrySetResult();
            }
            else if (logLevel >= LogLevel.Warning)
            {
                Warnings.Enqueue(exception);
                Warning.TrySetResult();
            }
        }
    }
}

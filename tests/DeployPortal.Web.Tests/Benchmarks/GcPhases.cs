using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>
/// Where this process's collections spend their pause, from the runtime's own GC events: stopping the threads
/// (GCSuspendEEBegin → GCSuspendEEEnd), the collection itself (GCStart → GCEnd) and starting them again
/// (GCRestartEEBegin → GCRestartEEEnd). <see cref="GC.GetTotalPauseDuration"/> counts all three as one.
/// </summary>
internal sealed class GcPhases : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentQueue<string> _done = new();
    private long _lastCount;
    private DateTime _suspendBegin, _suspendEnd, _gcStart, _gcEnd, _restartBegin;
    private int _generation;
    private long _count;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Informational, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        switch (e.EventName)
        {
            case "GCSuspendEEBegin_V1": _suspendBegin = e.TimeStamp; break;
            case "GCSuspendEEEnd_V1": _suspendEnd = e.TimeStamp; break;
            case "GCStart_V2":
                _gcStart = e.TimeStamp;
                _count = e.Payload is { Count: > 0 } c ? Convert.ToInt64(c[0]) : 0; // the process's collection count, as GC.CollectionCount(0)
                _generation = e.Payload is { Count: > 1 } p ? Convert.ToInt32(p[1]) : -1;
                break;
            case "GCEnd_V1": _gcEnd = e.TimeStamp; break;
            case "GCRestartEEBegin_V1": _restartBegin = e.TimeStamp; break;
            case "GCRestartEEEnd_V1" when _suspendBegin != default:
                _done.Enqueue($"gen{_generation}: suspend {Ms(_suspendEnd - _suspendBegin)}, collect {Ms(_gcEnd - _gcStart)}, "
                    + $"between {Ms(_gcStart - _suspendEnd + (_restartBegin - _gcEnd))}, restart {Ms(e.TimeStamp - _restartBegin)}");
                _suspendBegin = default;
                Volatile.Write(ref _lastCount, _count);
                break;
        }
    }

    /// <summary>
    /// Waits until the events of collection number <paramref name="count"/> (<see cref="GC.CollectionCount"/> of gen0)
    /// have arrived: the runtime hands them to listeners on a thread of its own, a little after the collection.
    /// </summary>
    public async Task WaitForAsync(long count, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref _lastCount) < count && clock.Elapsed < timeout)
        {
            await Task.Delay(20);
        }
    }

    /// <summary>The collections finished since the last call, one line each.</summary>
    public IReadOnlyList<string> Take()
    {
        var result = new List<string>();
        while (_done.TryDequeue(out var line))
        {
            result.Add(line);
        }

        return result;
    }

    private static string Ms(TimeSpan span) => BenchmarkReport.Ms(span.TotalMilliseconds);
}

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
    private DateTime _suspendBegin, _suspendEnd, _gcStart, _gcEnd, _restartBegin;
    private int _generation;

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
                _generation = e.Payload is { Count: > 1 } p ? Convert.ToInt32(p[1]) : -1;
                break;
            case "GCEnd_V1": _gcEnd = e.TimeStamp; break;
            case "GCRestartEEBegin_V1": _restartBegin = e.TimeStamp; break;
            case "GCRestartEEEnd_V1" when _suspendBegin != default:
                _done.Enqueue($"gen{_generation}: suspend {Ms(_suspendEnd - _suspendBegin)}, collect {Ms(_gcEnd - _gcStart)}, "
                    + $"between {Ms(_gcStart - _suspendEnd + (_restartBegin - _gcEnd))}, restart {Ms(e.TimeStamp - _restartBegin)}");
                _suspendBegin = default;
                break;
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

using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>
/// Where this process's collections spend their pause, from the runtime's own GC events: stopping the threads
/// (GCSuspendEEBegin → GCSuspendEEEnd), the collection itself (GCStart → GCEnd) and starting them again
/// (GCRestartEEBegin → GCRestartEEEnd). <see cref="GC.GetTotalPauseDuration"/> counts all three as one.
/// The collection is split further by its mark stages (GCMarkWithType, which each heap raises as it finishes marking
/// from one kind of root: stacks, finalization queue, handles, older generations through the card table …): the time
/// each stage ended after the one before it (slowest heap), with the bytes it marked (all heaps), and the time from the
/// last mark stage to the end (planning, relocating, compacting or sweeping). GCHeapStats adds the handle count.
/// </summary>
internal sealed class GcPhases : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentQueue<string> _done = new();
    private long _lastCount;
    private DateTime _suspendBegin, _suspendEnd, _gcStart, _gcEnd, _restartBegin;
    private int _generation;
    private long _count;
    private readonly List<(int Heap, int Kind, long Bytes, DateTime At)> _marks = [];
    private string _heapStats = "";

    // GCMarkWithType's root kinds by number, as TraceEvent's MarkRootType names them (stack, finalization queue, handles,
    // older generations, sized references, mark-stack overflow, dependent handles, new finalization queue, steal, background).
    private static readonly string[] MarkKinds = ["stack", "finalize-queue", "handles", "older (cards)", "sized-ref", "overflow", "dependent-handles", "new-finalize-queue", "steal", "bgc"];

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
            case "GCSuspendEEBegin_V1":
                _suspendBegin = e.TimeStamp;
                break;
            case "GCSuspendEEEnd_V1":
                _suspendEnd = e.TimeStamp;
                break;
            case "GCStart_V2":
                _gcStart = e.TimeStamp;
                _count = e.Payload is { Count: > 0 } c ? Convert.ToInt64(c[0]) : 0; // the process's collection count, as GC.CollectionCount(0)
                _generation = e.Payload is { Count: > 1 } p ? Convert.ToInt32(p[1]) : -1;
                _marks.Clear();
                break;
            case "GCMarkWithType" when e.Payload is { Count: >= 4 } m:
                _marks.Add((Convert.ToInt32(m[0]), Convert.ToInt32(m[2]), Convert.ToInt64(m[3]), e.TimeStamp));
                break;
            case { } name when name.StartsWith("GCHeapStats", StringComparison.Ordinal) && e.PayloadNames is { } names && e.Payload is { } values:
                object? Value(string field) => names.IndexOf(field) is var i and >= 0 ? values[i] : null;
                _heapStats = $"{Value("GCHandleCount")} handles, {Value("PinnedObjectCount")} pinned objects";
                break;
            case "GCEnd_V1":
                _gcEnd = e.TimeStamp;
                break;
            case "GCRestartEEBegin_V1":
                _restartBegin = e.TimeStamp;
                break;
            case "GCRestartEEEnd_V1" when _suspendBegin != default:
                _done.Enqueue($"gen{_generation}: suspend {Ms(_suspendEnd - _suspendBegin)}, collect {Ms(_gcEnd - _gcStart)}, "
                    + $"between {Ms(_gcStart - _suspendEnd + (_restartBegin - _gcEnd))}, restart {Ms(e.TimeStamp - _restartBegin)}; "
                    + $"{MarkStages()}; {_heapStats}");
                _suspendBegin = default;
                Volatile.Write(ref _lastCount, _count);
                break;
        }
    }

    private string MarkStages()
    {
        if (_marks.Count == 0)
        {
            return "no mark events";
        }

        // Per heap, each stage's time is from that heap's previous stage (the first from GCStart); stages run in the
        // same order on every heap, and server GC's heaps join between them, so the slowest heap is the stage's time.
        var stages = _marks.GroupBy(m => m.Heap)
            .SelectMany(heap =>
            {
                var ordered = heap.OrderBy(m => m.At).ToList();
                return ordered.Select((m, i) => (m.Kind, m.Bytes, Took: m.At - (i == 0 ? _gcStart : ordered[i - 1].At)));
            })
            .GroupBy(s => s.Kind)
            .Select(k => $"{(k.Key < MarkKinds.Length ? MarkKinds[k.Key] : $"kind {k.Key}")} {Ms(k.Max(s => s.Took))} {k.Sum(s => s.Bytes) / 1048576.0:0.#} MiB");
        var lastMark = _marks.Max(m => m.At);
        return $"mark: {string.Join(", ", stages)}; after marking {Ms(_gcEnd - lastMark)}";
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

using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>
/// For profiling: the methods this process's JIT compiles (the runtime's MethodJittingStarted events), so a benchmark
/// can tell start-up compilation (a method's first time, or its promotion to optimised code) from steady-state work.
/// </summary>
internal sealed class JitLog : EventListener
{
    private const EventKeywords JitKeyword = (EventKeywords)0x10;
    private readonly ConcurrentQueue<string> _compiled = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, JitKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("MethodJittingStarted", StringComparison.Ordinal) == true && e.PayloadNames is { } names && e.Payload is { } values)
        {
            var type = values[names.IndexOf("MethodNamespace")] as string ?? "";
            if (!type.StartsWith("DeployPortal.Web.Tests", StringComparison.Ordinal)) // the benchmark's own code is not the portal's
            {
                _compiled.Enqueue($"{type}::{values[names.IndexOf("MethodName")]}");
            }
        }
    }

    /// <summary>The methods compiled since the last call, most often compiled first, with how many times (a method is compiled again as it moves up a tier).</summary>
    public IReadOnlyList<string> Take(int top)
    {
        var taken = new List<string>();
        while (_compiled.TryDequeue(out var method))
        {
            taken.Add(method);
        }

        return [.. taken.GroupBy(m => m).OrderByDescending(g => g.Count()).Take(top).Select(g => $"{g.Count(),5} {g.Key}")];
    }
}

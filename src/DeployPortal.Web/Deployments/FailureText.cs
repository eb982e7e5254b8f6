using System.Text.RegularExpressions;
using DeployPortal.Web.Logs;

namespace DeployPortal.Web.Deployments;

/// <summary>
/// A deployment's failure reason taken apart for reading: the cluster's sentence, the exception the app died of
/// (what a developer looks for first), and the last lines of its log as they were written (ANSI colours and all).
/// Pure: the reason is stored as one text (the rollout watcher appends the log to the cluster's sentence).
/// </summary>
public sealed partial record FailureText(string Headline, string? Exception, IReadOnlyList<string> LogLines)
{
    /// <summary>Where the cluster's sentence ends and the crashed container's log begins.</summary>
    public const string LogMarker = " Last lines of its log:\n";

    public static FailureText Parse(string reason)
    {
        var at = reason.IndexOf(LogMarker, StringComparison.Ordinal);
        if (at < 0)
        {
            return new(reason, null, []);
        }

        string[] lines = [.. reason[(at + LogMarker.Length)..].Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0)];
        var exception = lines.Select(AnsiText.Strip).Select(ExceptionOf).FirstOrDefault(e => e is not null);
        return new(reason[..at], exception, lines);
    }

    /// <summary>The pod whose container crashed, as the cluster's sentence names it ("pod … restarted"); null otherwise.</summary>
    public string? CrashedPod => CrashedPodName().Match(Headline) is { Success: true } m ? m.Groups["pod"].Value : null;

    /// <summary>The cluster's sentence alone: a step's message says it, the alert above shows the rest once.</summary>
    public static string HeadlineOf(string message) => Parse(message).Headline;

    /// <summary>"System.InvalidOperationException: …" from .NET's "Unhandled exception. …" or a bare exception line; Go's "panic: …".</summary>
    private static string? ExceptionOf(string line) =>
        ExceptionLine().Match(line) is { Success: true } m ? m.Groups["exception"].Value.Trim() : null;

    [GeneratedRegex(@"\bpod (?<pod>[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?) restarted\b")]
    private static partial Regex CrashedPodName();

    [GeneratedRegex(@"^\s*(?:Unhandled exception\.\s*)?(?<exception>(?:\w+\.)*\w+(?:Exception|Error)(?::.*)?|panic: .+)$")]
    private static partial Regex ExceptionLine();
}

namespace DeployPortal.Web.Logs;

/// <summary>One piece of a rendered line: text with its ANSI style classes, marked when it matches the filter.</summary>
public readonly record struct LogSegment(string Text, string? Css, bool Match);

/// <summary>
/// What a log viewer shows, without rendering: lines of one or several pods merged by time, bounded (the oldest
/// drop off, counted), filtered (text or regular expression, case, invert), and whether the view follows the end.
/// Not thread-safe: the viewer changes it on the renderer's thread only.
/// </summary>
internal sealed class LogView(int capacity = LogView.DefaultCapacity)
{
    public const int DefaultCapacity = 100_000;

    /// <summary>Longer lines are shown cut (a 200,000-character line must not stall the page); copy and download keep them whole.</summary>
    public const int MaxShownChars = 4_000;

    private readonly List<LogLine> _all = [];
    private readonly List<LogLine> _shown = [];
    private readonly Dictionary<string, int> _colours = [];
    private LogFilter _filter = LogFilter.None;

    /// <summary>The lines that pass the filter, oldest first (a list, so <c>Virtualize</c> can index it).</summary>
    public ICollection<LogLine> Shown => _shown;

    public IReadOnlyList<LogLine> ShownLines => _shown;

    public int Count => _all.Count;

    public int Capacity => capacity;

    /// <summary>Lines dropped from the start to keep memory bounded.</summary>
    public long DroppedOlder { get; private set; }

    public string FilterText => _filter.Text;

    public bool CaseSensitive => _filter.CaseSensitive;

    public bool UseRegex => _filter.UseRegex;

    public bool Invert => _filter.Invert;

    /// <summary>Why the filter cannot be used (an invalid expression); the view then shows every line.</summary>
    public string? FilterError => _filter.Error;

    public bool Following { get; private set; } = true;

    /// <summary>Shown lines that arrived since following paused ("jump to latest (N new)").</summary>
    public int NewWhilePaused { get; private set; }

    public bool HasFilter => _filter.IsActive;

    public void Pause() => Following = false;

    public void Follow()
    {
        Following = true;
        NewWhilePaused = 0;
    }

    public void Clear()
    {
        _all.Clear();
        _shown.Clear();
        DroppedOlder = 0;
        NewWhilePaused = 0;
    }

    /// <summary>A stable colour index per pod, in order of first appearance.</summary>
    public int ColourOf(string pod)
    {
        if (!_colours.TryGetValue(pod, out var colour))
        {
            _colours[pod] = colour = _colours.Count % 8;
        }

        return colour;
    }

    public void SetFilter(string text, bool caseSensitive, bool regex, bool invert)
    {
        _filter = new LogFilter(text, caseSensitive, regex, invert);
        _shown.Clear();
        _shown.AddRange(_all.Where(Passes));
    }

    /// <summary>Adds lines (from any pods, in any order) at their place by time, then drops the oldest beyond capacity.</summary>
    public void Add(IReadOnlyList<LogLine> lines)
    {
        if (lines.Count == 0)
        {
            return;
        }

        var batch = IsOrdered(lines) ? lines : lines.OrderBy(l => l.UnixNanos).ToList(); // OrderBy is stable: one pod's order is kept
        foreach (var line in batch)
        {
            var passes = Passes(line);
            Insert(_all, line);
            if (passes)
            {
                Insert(_shown, line);
                if (!Following)
                {
                    NewWhilePaused++;
                }
            }
        }

        var excess = _all.Count - capacity;
        if (excess > 0)
        {
            // _shown keeps _all's order, so the dropped lines that were shown are its first ones (same instances).
            var shownDropped = 0;
            for (var i = 0; i < excess && shownDropped < _shown.Count; i++)
            {
                if (ReferenceEquals(_all[i], _shown[shownDropped]))
                {
                    shownDropped++;
                }
            }

            _all.RemoveRange(0, excess);
            _shown.RemoveRange(0, shownDropped);
            DroppedOlder += excess;
        }
    }

    private static bool IsOrdered(IReadOnlyList<LogLine> lines)
    {
        for (var i = 1; i < lines.Count; i++)
        {
            if (lines[i].UnixNanos < lines[i - 1].UnixNanos)
            {
                return false;
            }
        }

        return true;
    }

    public bool Passes(LogLine line) => _filter.Passes(line);

    /// <summary>The line as styled, filter-marked segments, cut at <see cref="MaxShownChars"/>.</summary>
    public IReadOnlyList<LogSegment> Segments(LogLine line) => _filter.Segments(line, MaxShownChars);

    /// <summary>Plain text of lines (for copy and download), with timestamps and pod names when asked.</summary>
    public static string ToText(IEnumerable<LogLine> lines, bool timestamps, bool podNames)
    {
        var text = new System.Text.StringBuilder();
        foreach (var line in lines)
        {
            text.Append(ToText(line, timestamps, podNames)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>One line as plain text: kubelet timestamp, pod name in brackets, the text without ANSI codes.</summary>
    public static string ToText(LogLine line, bool timestamps, bool podNames) =>
        $"{(timestamps ? line.Timestamp + " " : "")}{(podNames ? $"[{line.Pod}] " : "")}{AnsiText.Strip(line.Text)}";

    private static void Insert(List<LogLine> list, LogLine line)
    {
        if (list.Count == 0 || list[^1].UnixNanos <= line.UnixNanos)
        {
            list.Add(line); // the usual case: lines come in order
            return;
        }

        // A line of another pod that is older than what we have: after every line not newer than it.
        int lo = 0, hi = list.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (list[mid].UnixNanos <= line.UnixNanos)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        list.Insert(lo, line);
    }
}

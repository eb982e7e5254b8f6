using System.Text.RegularExpressions;

namespace DeployPortal.Web.Logs;

/// <summary>
/// A log viewer's filter (text or regular expression, case, invert): which lines pass it and where it matches in a
/// line. An invalid expression is kept with its <see cref="Error"/> and filters nothing. Immutable.
/// </summary>
internal sealed class LogFilter
{
    private static readonly TimeSpan RegexBudget = TimeSpan.FromMilliseconds(50);
    private readonly Regex? _regex;

    public LogFilter(string text, bool caseSensitive, bool regex, bool invert)
    {
        Text = text ?? "";
        CaseSensitive = caseSensitive;
        UseRegex = regex;
        Invert = invert;
        if (regex && Text.Length > 0)
        {
            try
            {
                _regex = new Regex(Text, (caseSensitive ? RegexOptions.None : RegexOptions.IgnoreCase) | RegexOptions.CultureInvariant | RegexOptions.Compiled, RegexBudget);
            }
            catch (ArgumentException e)
            {
                Error = $"Not a valid regular expression: {e.Message}";
            }
        }
    }

    /// <summary>No filter: every line passes.</summary>
    public static LogFilter None { get; } = new("", caseSensitive: false, regex: false, invert: false);

    public string Text { get; }

    public bool CaseSensitive { get; }

    public bool UseRegex { get; }

    public bool Invert { get; }

    /// <summary>Why the filter cannot be used (an invalid expression); every line then passes.</summary>
    public string? Error { get; }

    public bool IsActive => Text.Length > 0 && Error is null;

    public bool Passes(LogLine line) => !IsActive || IsMatch(AnsiText.Strip(line.Text)) != Invert;

    public IReadOnlyList<LogSegment> Segments(LogLine line, int maxChars)
    {
        var runs = AnsiText.Parse(line.Text, maxChars);
        if (!IsActive || Invert)
        {
            return [.. runs.Select(r => new LogSegment(r.Text, r.Css, false))];
        }

        var plain = string.Concat(runs.Select(r => r.Text));
        var marks = Matches(plain);
        if (marks.Count == 0)
        {
            return [.. runs.Select(r => new LogSegment(r.Text, r.Css, false))];
        }

        var result = new List<LogSegment>();
        var offset = 0;
        foreach (var run in runs)
        {
            var position = 0;
            while (position < run.Text.Length)
            {
                var at = offset + position;
                var mark = marks.FirstOrDefault(m => m.Start <= at && at < m.Start + m.Length);
                int end;
                bool inMark;
                if (mark.Length > 0)
                {
                    end = Math.Min(run.Text.Length, mark.Start + mark.Length - offset);
                    inMark = true;
                }
                else
                {
                    var next = marks.Where(m => m.Start > at).Select(m => m.Start - offset).DefaultIfEmpty(run.Text.Length).Min();
                    end = Math.Min(run.Text.Length, next);
                    inMark = false;
                }

                result.Add(new LogSegment(run.Text[position..end], run.Css, inMark));
                position = end;
            }

            offset += run.Text.Length;
        }

        return result;
    }

    private bool IsMatch(string text)
    {
        if (_regex is not null)
        {
            try
            {
                return _regex.IsMatch(text);
            }
            catch (RegexMatchTimeoutException)
            {
                return false;
            }
        }

        return text.Contains(Text, CaseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
    }

    private List<(int Start, int Length)> Matches(string text)
    {
        var found = new List<(int, int)>();
        if (_regex is not null)
        {
            try
            {
                foreach (Match m in _regex.Matches(text))
                {
                    if (m.Length > 0)
                    {
                        found.Add((m.Index, m.Length));
                    }
                }
            }
            catch (RegexMatchTimeoutException)
            {
            }

            return found;
        }

        var comparison = CaseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        for (var at = text.IndexOf(Text, comparison); at >= 0; at = text.IndexOf(Text, at + Text.Length, comparison))
        {
            found.Add((at, Text.Length));
        }

        return found;
    }
}

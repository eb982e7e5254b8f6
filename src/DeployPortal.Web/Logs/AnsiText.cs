using System.Text;

namespace DeployPortal.Web.Logs;

/// <summary>A run of text in one ANSI style; <see cref="Css"/> holds class names only, never markup.</summary>
public readonly record struct AnsiRun(string Text, string? Css);

/// <summary>
/// ANSI SGR colour codes (what ASP.NET's console logger and most CLIs emit) turned into CSS classes. The text
/// stays text: components render it as text nodes, so a log line can never inject markup.
/// </summary>
public static class AnsiText
{
    private const char Escape = '\u001b';

    /// <summary>The line without escape sequences (for filtering, copy and download).</summary>
    public static string Strip(string text)
    {
        if (!text.Contains(Escape))
        {
            return text;
        }

        return string.Concat(Parse(text, int.MaxValue).Select(r => r.Text));
    }

    /// <summary>Styled runs of at most <paramref name="maxChars"/> visible characters; a cut line ends with a note.</summary>
    public static List<AnsiRun> Parse(string text, int maxChars)
    {
        var runs = new List<AnsiRun>();
        if (!text.Contains(Escape))
        {
            AddCut(runs, text, null, ref maxChars);
            AddNote(runs, text.Length - Math.Min(text.Length, runs.Sum(r => r.Text.Length)));
            return runs;
        }

        int? fg = null, bg = null;
        var bold = false;
        var current = new StringBuilder();
        var hidden = 0;
        var budget = maxChars;

        void Flush()
        {
            if (current.Length == 0)
            {
                return;
            }

            var css = new List<string>(3);
            if (fg is { } f)
            {
                css.Add($"ansi-fg-{f}");
            }

            if (bg is { } b)
            {
                css.Add($"ansi-bg-{b}");
            }

            if (bold)
            {
                css.Add("ansi-bold");
            }

            AddCut(runs, current.ToString(), css.Count == 0 ? null : string.Join(' ', css), ref budget, ref hidden);
            current.Clear();
        }

        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == Escape && i + 1 < text.Length && text[i + 1] == '[')
            {
                var end = i + 2;
                while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == ';'))
                {
                    end++;
                }

                if (end < text.Length)
                {
                    if (text[end] == 'm')
                    {
                        Flush();
                        Apply(text[(i + 2)..end], ref fg, ref bg, ref bold);
                    }

                    i = end + 1; // other CSI sequences (cursor moves…) are dropped
                    continue;
                }
            }

            if (text[i] != Escape)
            {
                current.Append(text[i]);
            }

            i++;
        }

        Flush();
        AddNote(runs, hidden);
        return runs;
    }

    private static void Apply(string parameters, ref int? fg, ref int? bg, ref bool bold)
    {
        var codes = parameters.Length == 0 ? [0] : parameters.Split(';').Select(p => int.TryParse(p, out var c) ? c : 0).ToArray();
        for (var k = 0; k < codes.Length; k++)
        {
            var code = codes[k];
            switch (code)
            {
                case 0:
                    fg = null;
                    bg = null;
                    bold = false;
                    break;
                case 1:
                    bold = true;
                    break;
                case 22:
                    bold = false;
                    break;
                case >= 30 and <= 37:
                    fg = code - 30;
                    break;
                case >= 90 and <= 97:
                    fg = code - 90 + 8;
                    break;
                case 39:
                    fg = null;
                    break;
                case >= 40 and <= 47:
                    bg = code - 40;
                    break;
                case >= 100 and <= 107:
                    bg = code - 100 + 8;
                    break;
                case 49:
                    bg = null;
                    break;
                case 38 or 48:
                    k += k + 1 < codes.Length && codes[k + 1] == 5 ? 2 : 4;
                    break; // 256/true colour: skipped, shown unstyled
            }
        }
    }

    private static void AddCut(List<AnsiRun> runs, string text, string? css, ref int budget)
    {
        var hidden = 0;
        AddCut(runs, text, css, ref budget, ref hidden);
    }

    private static void AddCut(List<AnsiRun> runs, string text, string? css, ref int budget, ref int hidden)
    {
        var take = Math.Min(budget, text.Length);
        if (take > 0)
        {
            runs.Add(new AnsiRun(take == text.Length ? text : text[..take], css));
        }

        budget -= take;
        hidden += text.Length - take;
    }

    private static void AddNote(List<AnsiRun> runs, int hidden)
    {
        if (hidden > 0)
        {
            runs.Add(new AnsiRun($" … {hidden:N0} more characters (copy or download for the whole line)", "portal-log-cut"));
        }
    }
}

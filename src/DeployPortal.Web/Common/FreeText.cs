using System.Globalization;
using System.Text;

namespace DeployPortal.Web.Common;

/// <summary>
/// Text people type (purposes, notes, descriptions) goes into PostgreSQL, HTML, logs and chat messages. PostgreSQL
/// refuses NUL; control characters and ANSI escapes corrupt logs and terminals; bidirectional overrides make
/// "invoice_&#x202E;fdp.exe" read "invoice_exe.pdf". So the services refuse the first two with a sentence, drop the
/// overrides, and treat text that shows nothing (spaces, zero-width characters) as empty.
/// </summary>
public static class FreeText
{
    /// <summary>Why <paramref name="text"/> cannot be stored, as the end of a sentence ("contains …"), or null when it can.</summary>
    public static string? Problem(string? text, bool multiline)
    {
        if (text is null)
        {
            return null;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                    continue;
                }

                return "contains a broken character (half of a surrogate pair); type it again.";
            }

            if (c == '\0')
            {
                return "contains a NUL character, which cannot be stored; remove it.";
            }

            if (char.IsControl(c) && !(c == '\t' || (multiline && c is '\n' or '\r')))
            {
                return multiline
                    ? $"contains the control character U+{(int)c:X4}; only line breaks and tabs are allowed."
                    : $"contains the control character U+{(int)c:X4} (a line break, an escape sequence or similar); use one line of plain text.";
            }
        }

        return null;
    }

    /// <summary>True when the text shows nothing: empty, or only spaces and invisible characters.</summary>
    public static bool IsBlank(string? text)
    {
        if (text is null)
        {
            return true;
        }

        foreach (var rune in text.EnumerateRunes())
        {
            if (!Rune.IsWhiteSpace(rune) && !IsInvisible(rune))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The text as stored: NFC, bidirectional embeddings, overrides and isolates removed, line breaks as "\n" (or spaces
    /// when <paramref name="multiline"/> is false), tabs as spaces on one line, trimmed. Call after <see cref="Problem"/> found none.
    /// </summary>
    public static string Clean(string text, bool multiline)
    {
        var normalized = text.IsNormalized(NormalizationForm.FormC) ? text : text.Normalize(NormalizationForm.FormC);
        var result = new StringBuilder(normalized.Length);
        for (var i = 0; i < normalized.Length; i++)
        {
            var c = normalized[i];
            switch (c)
            {
                case >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069':
                    break;
                case '\r':
                    if (i + 1 < normalized.Length && normalized[i + 1] == '\n')
                    {
                        i++;
                    }

                    result.Append(multiline ? '\n' : ' ');
                    break;
                case '\n' or '\u2028' or '\u2029':
                    result.Append(multiline ? '\n' : ' ');
                    break;
                case '\t' when !multiline:
                    result.Append(' ');
                    break;
                default:
                    result.Append(c);
                    break;
            }
        }

        return result.ToString().Trim();
    }

    // Format characters (zero-width space and joiners, bidi marks, soft hyphen, BOM…) and the blank letters that
    // render as nothing.
    private static bool IsInvisible(Rune rune) =>
        Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format || rune.Value is 0x115F or 0x1160 or 0x3164 or 0xFFA0 or 0x2800 or 0x034F;
}

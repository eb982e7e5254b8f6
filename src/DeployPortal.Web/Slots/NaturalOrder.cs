namespace DeployPortal.Web.Slots;

/// <summary>
/// Orders names as people read them: runs of digits compare as numbers (qa-2 before qa-10), letters without regard
/// to case; names that tie that way (qa-01 and qa-1, QA-1 and qa-1) fall back to ordinal order so the order is stable.
/// </summary>
internal sealed class NaturalOrder : IComparer<string?>
{
    public static readonly NaturalOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        var (i, j) = (0, 0);
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                var (endX, endY) = (DigitsEnd(x, i), DigitsEnd(y, j));
                var byNumber = CompareNumbers(x.AsSpan(i, endX - i), y.AsSpan(j, endY - j));
                if (byNumber != 0)
                {
                    return byNumber;
                }

                (i, j) = (endX, endY);
                continue;
            }

            var byLetter = char.ToUpperInvariant(x[i]).CompareTo(char.ToUpperInvariant(y[j]));
            if (byLetter != 0)
            {
                return byLetter;
            }

            (i, j) = (i + 1, j + 1);
        }

        var byLength = (x.Length - i).CompareTo(y.Length - j);
        return byLength != 0 ? byLength : string.CompareOrdinal(x, y);
    }

    private static int DigitsEnd(string s, int start)
    {
        while (start < s.Length && char.IsAsciiDigit(s[start]))
        {
            start++;
        }

        return start;
    }

    // Any length of digits: leading zeros dropped, then the longer number is larger, then digit by digit.
    private static int CompareNumbers(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        a = a.TrimStart('0');
        b = b.TrimStart('0');
        return a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.SequenceCompareTo(b);
    }
}

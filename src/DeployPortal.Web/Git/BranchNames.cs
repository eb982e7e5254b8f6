namespace DeployPortal.Web.Git;

/// <summary>
/// What to say when a branch name is not in an app's repository: the name as typed, and the existing branch it most
/// likely meant. Typos in branch names are mostly a swapped separator (feature-login for feature/login), a missing
/// prefix, or a letter or two; the closest name by edit distance over names compared without case or separators
/// catches all three.
/// </summary>
public static class BranchNames
{
    public static string NotFound(string app, string typed, IEnumerable<string> existing)
    {
        var shown = typed.Length > 80 ? typed[..80] + "…" : typed;
        var sentence = $"{app}'s repository has no branch called \"{shown}\"";
        return Closest(typed, existing) is { } suggestion ? $"{sentence}; did you mean {suggestion}?" : sentence + ".";
    }

    /// <summary>The existing name closest to <paramref name="typed"/>, or null when nothing is close enough to suggest.</summary>
    public static string? Closest(string typed, IEnumerable<string> existing)
    {
        var wanted = Normalise(typed);
        if (wanted.Length == 0)
        {
            return null;
        }

        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var name in existing)
        {
            var candidate = Normalise(name);
            var distance = candidate.EndsWith(wanted, StringComparison.Ordinal) || wanted.EndsWith(candidate, StringComparison.Ordinal)
                ? Math.Abs(candidate.Length - wanted.Length) / 4 // "login" for "feature/login": a missing prefix is a small slip
                : Distance(wanted, candidate);
            if (distance < bestDistance || (distance == bestDistance && best is not null && name.Length < best.Length))
            {
                (best, bestDistance) = (name, distance);
            }
        }

        return bestDistance <= Math.Max(2, wanted.Length / 3) ? best : null;
    }

    private static string Normalise(string name) =>
        new([.. name.Trim().ToLowerInvariant().Where(c => c is not ('/' or '-' or '_' or '.' or ' '))]);

    /// <summary>Levenshtein distance, two rows at a time.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}

using System.Globalization;
using System.Text;

namespace DeployPortal.Web.Audit;

/// <summary>
/// The history as CSV, with the same filters as the page (so "export" gives what the person is looking at), newest
/// first, at most <see cref="MaxRows"/> rows. Times are UTC in ISO 8601, as spreadsheets parse them.
/// </summary>
public static class HistoryExport
{
    public const int MaxRows = 10_000;

    public static IEndpointRouteBuilder MapHistoryExport(this IEndpointRouteBuilder app)
    {
        app.MapGet("/history.csv", ExportAsync).RequireAuthorization();
        return app;
    }

    /// <summary>The query-string value of a set of kinds (the page and the export read it alike); null for the default.</summary>
    public static string? KindsParameter(IReadOnlyCollection<HistoryKind>? kinds) =>
        kinds is null ? null : kinds.Count == 0 ? "none" : string.Join(",", kinds.Select(k => k.ToString().ToLowerInvariant()));

    public static IReadOnlyCollection<HistoryKind>? ParseKinds(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null
        : value == "all" ? Enum.GetValues<HistoryKind>()
        : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(k => Enum.TryParse<HistoryKind>(k, ignoreCase: true, out var kind) && !int.TryParse(k, out _) ? kind : (HistoryKind?)null)
            .OfType<HistoryKind>().Distinct().ToList();

    private static async Task<IResult> ExportAsync(string? slot, string? person, string? kinds, AuditQueries audit, TimeProvider clock, CancellationToken ct)
    {
        var page = await audit.FindAsync(new AuditFilter(slot, person, 0, MaxRows, ParseKinds(kinds)), ct);
        var csv = new StringBuilder("at_utc,who,what,slot,details\r\n");
        foreach (var e in page.Items)
        {
            csv.AppendJoin(',', e.At.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), Cell(e.ActorName), Cell(e.Action), Cell(e.SlotName), Cell(e.Details))
                .Append("\r\n");
        }

        var name = $"deployportal-history-{clock.GetUtcNow():yyyyMMdd-HHmm}.csv";
        return Results.File(Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(csv.ToString())).ToArray(), "text/csv; charset=utf-8", name);
    }

    /// <summary>
    /// Quoted when needed (RFC 4180); text a spreadsheet would run as a formula (=, +, -, @, tab, CR) is prefixed with
    /// an apostrophe, since purposes and notes are anyone's free text.
    /// </summary>
    internal static string Cell(string? value)
    {
        value ??= "";
        if (value.Length > 0 && "=+-@\t\r".Contains(value[0]))
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}

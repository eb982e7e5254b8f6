using System.Globalization;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>
/// Where benchmarks leave their figures for <c>tests/bench.sh</c>: one markdown table row and one paragraph
/// on method per measurement, as files in the folder named by <c>DEPLOYPORTAL_BENCH_RESULTS</c>; the script
/// puts them under the machine's description. Without the variable (a single benchmark run from an IDE),
/// the test output is the only report.
/// </summary>
internal static class BenchmarkReport
{
    public const string Variable = "DEPLOYPORTAL_BENCH_RESULTS";

    /// <param name="key">Orders the rows, e.g. <c>1-circuits</c>.</param>
    /// <param name="met"><c>null</c> when the figure has no goal.</param>
    public static void Row(string key, string benchmark, string result, string goal, bool? met, string method)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } folder)
        {
            return;
        }

        Directory.CreateDirectory(Path.Combine(folder, "rows"));
        Directory.CreateDirectory(Path.Combine(folder, "methods"));
        var verdict = met switch { true => "met", false => "**missed**", null => "–" };
        File.WriteAllText(Path.Combine(folder, "rows", key + ".md"), $"| {benchmark} | {result} | {goal} | {verdict} |\n");
        File.WriteAllText(Path.Combine(folder, "methods", key + ".md"), $"- **{benchmark}**: {method}\n");
    }

    /// <summary>Nearest-rank percentile of unsorted values.</summary>
    public static double Percentile(IEnumerable<double> values, double percentile)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    public static string Ms(double value) => value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " ms";

    public static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>An integer setting from the environment, so the lead can scale a run without editing code.</summary>
    public static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}

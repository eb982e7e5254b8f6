using DeployPortal.Web.Common;
using DeployPortal.Web.Insights;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace DeployPortal.Web.Components.Pages.Insights;

/// <summary>Thin: asks <see cref="InsightsService"/> for the period in the address and turns the report into chart series.</summary>
public sealed partial class Insights
{
    private InsightsPeriod _period = InsightsPeriod.Week;
    private TimeZoneInfo? _loadedZone;
    private InsightsPeriod? _loadedPeriod;
    private InsightsReport? _report;
    private string? _error;
    private string[] _labels = [];
    private string[] _durationLabels = [];
    private List<ChartSeries<double>> _utilisation = [];
    private List<ChartSeries<double>> _holds = [];
    private List<ChartSeries<double>> _deployments = [];
    private List<ChartSeries<double>> _durations = [];

    // Counts are small whole numbers: a tick per unit (thinned by MudBlazor when there are many), not every 20.
    private readonly LineChartOptions _percentOptions = new() { YAxisTicks = 25, YAxisFormat = "0", YAxisRequireZeroPoint = true };
    private readonly StackedBarChartOptions _holdOptions = new()
    {
        YAxisTicks = 1,
        MaxNumYAxisTicks = 8,
        YAxisFormat = "0",
        ChartPalette = [Blue, Green, Amber, Red], // given back, QA done, taken back, expired (the waste)
    };
    private readonly StackedBarChartOptions _deploymentOptions = new() { YAxisTicks = 1, MaxNumYAxisTicks = 8, YAxisFormat = "0", ChartPalette = [Green, Red] };
    private readonly BarChartOptions _durationOptions = new() { YAxisTicks = 1, MaxNumYAxisTicks = 8, YAxisFormat = "0", ChartPalette = [Green, Red] };

    private const string Blue = "#1f4e79";
    private const string Green = "#2e7d32";
    private const string Amber = "#f9a825";
    private const string Red = "#c62828";

    [Inject] private InsightsService Service { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "period")] private string? PeriodQuery { get; set; }

    /// <summary>The reader's zone (from the layout, once the browser said it), so day buckets are their days.</summary>
    [CascadingParameter] private TimeZoneInfo? Zone { get; set; }

    protected override async Task OnParametersSetAsync()
    {
        _period = InsightsPeriods.Parse(PeriodQuery);
        var zone = Zone ?? TimeZoneInfo.Utc;
        if (_loadedPeriod == _period && _loadedZone == zone)
        {
            return;
        }

        (_loadedPeriod, _loadedZone) = (_period, zone);
        try
        {
            Show(await Service.GetReportAsync(_period, zone));
            _error = null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _error = "The figures could not be loaded: the database did not answer. Reload to try again.";
        }
    }

    private void Show(InsightsReport report)
    {
        _report = report;
        // Every label on a 30-day axis is unreadable; keep about ten.
        var step = Math.Max(1, (int)Math.Ceiling(report.Buckets.Count / 10.0));
        _labels = [.. report.Buckets.Select((b, i) => i % step == 0 ? b.Label : "")];
        _utilisation = [.. report.Slots.Select(s => Series(s.Slot, s.HeldShare.Select(x => Math.Round(x * 100, 1))))];
        _holds =
        [
            Series("Released by the holder", report.Holds.ReleasedPerBucket),
            Series("QA done", report.Holds.QaDonePerBucket),
            Series("Taken back by an admin", report.Holds.ForcedPerBucket),
            Series("Expired", report.Holds.ExpiredPerBucket),
        ];
        _deployments = [Series("Succeeded", report.Deployments.SucceededPerBucket), Series("Failed", report.Deployments.FailedPerBucket)];
        _durationLabels = [.. report.Deployments.Durations.Select(d => d.Label)];
        _durations =
        [
            Series("Succeeded", report.Deployments.Durations.Select(d => d.Succeeded)),
            Series("Failed", report.Deployments.Durations.Select(d => d.Failed)),
        ];
    }

    private static ChartSeries<double> Series(string name, IEnumerable<double> values) => new() { Name = name, Data = values.ToArray() };

    private static ChartSeries<double> Series(string name, IEnumerable<int> values) => Series(name, values.Select(v => (double)v));

    private static double? AverageShare(InsightsReport report) => report.Slots.Count == 0 ? null : report.Slots.Average(s => s.Share);

    private static string Percent(double? share) => share is { } s ? $"{s * 100:0}%" : "–";

    private static string Duration(TimeSpan? value) => value switch
    {
        null => "–",
        { TotalSeconds: < 90 } v => $"{v.TotalSeconds:0} s",
        { } v => TimeText.Duration(v),
    };
}

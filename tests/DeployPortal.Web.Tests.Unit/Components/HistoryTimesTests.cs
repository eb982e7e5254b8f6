using DeployPortal.Web.Components.Pages.History;

namespace DeployPortal.Web.Tests.Components;

/// <summary>Issue 22: one time format in History, in the reader's zone, for the When column and the details alike.</summary>
public sealed class HistoryTimesTests
{
    private static readonly DateTime Now = new(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    [Theory]
    [InlineData("checkout · until 2026-12-04 16:30:00Z", "checkout · until 17:30")] // today, an hour ahead in winter
    [InlineData("by 2 h · until 2026-12-05 23:30:00Z", "by 2 h · until Sun 6 Dec 00:30")] // past midnight there
    [InlineData("renewed until 2026-12-04T16:30:00Z and 2026-12-04 17:00:00Z", "renewed until 17:30 and 18:00")]
    [InlineData("QA fail for Dana: checkout button missing", "QA fail for Dana: checkout button missing")]
    [InlineData("not a time 2026-13-45 99:99:99Z", "not a time 2026-13-45 99:99:99Z")]
    public void UtcTimesInDetails_AreShownInTheReadersZone(string details, string shown) =>
        Assert.Equal(shown, HistoryTimes.InZone(details, Berlin, Now));

    [Fact]
    public void WithoutAZoneYet_TimesAreShownInUtc_InTheSameFormat() =>
        Assert.Equal("until 16:30", HistoryTimes.InZone("until 2026-12-04 16:30:00Z", null, Now));
}

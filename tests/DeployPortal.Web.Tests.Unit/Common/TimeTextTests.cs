using DeployPortal.Web.Common;

namespace DeployPortal.Web.Tests.Common;

public sealed class TimeTextTests
{
    [Theory]
    [InlineData(0, "less than a minute")]
    [InlineData(59, "less than a minute")]
    [InlineData(60, "1 min")]
    [InlineData(25 * 60, "25 min")]
    [InlineData(2 * 3600, "2 h")]
    [InlineData(2 * 3600 + 30 * 60, "2 h 30 min")]
    [InlineData(2 * 3600 - 1, "2 h")]
    [InlineData(24 * 3600, "1 d")]
    [InlineData(27 * 3600, "1 d 3 h")]
    [InlineData(24 * 3600 - 10, "1 d")]
    public void Duration_ReadsTheWayAPersonWouldSayIt(int seconds, string expected) =>
        Assert.Equal(expected, TimeText.Duration(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Relative_SaysInForTheFutureAndAgoForThePast()
    {
        var now = new DateTime(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc);
        Assert.Equal("in 25 min", TimeText.Relative(now.AddMinutes(25), now));
        Assert.Equal("2 h ago", TimeText.Relative(now.AddHours(-2), now));
        Assert.Equal("less than a minute ago", TimeText.Relative(now, now));
    }
}

using DeployPortal.Web.Logs;

namespace DeployPortal.Web.Tests.Logs;

public sealed class LogViewTests
{
    private static LogLine Line(long nanos, string text, string pod = "web-a") => new(pod, "web", nanos, text);

    [Fact]
    public void Filter_PlainText_IgnoresCaseUnlessAsked()
    {
        var view = new LogView();
        view.Add([Line(1, "GET /Orders 200"), Line(2, "GET /health 200"), Line(3, "POST /orders 500")]);

        view.SetFilter("orders", caseSensitive: false, regex: false, invert: false);
        Assert.Equal([1L, 3L], view.ShownLines.Select(l => l.UnixNanos));

        view.SetFilter("orders", caseSensitive: true, regex: false, invert: false);
        Assert.Equal([3L], view.ShownLines.Select(l => l.UnixNanos));
    }

    [Fact]
    public void Filter_RegexAndInvert_ShowTheOtherLines_AndABadExpressionShowsEverythingWithAReason()
    {
        var view = new LogView();
        view.Add([Line(1, "GET /orders 200"), Line(2, "GET /health 200"), Line(3, "POST /orders 500")]);

        view.SetFilter(" 5\\d\\d$", caseSensitive: false, regex: true, invert: true);
        Assert.Equal([1L, 2L], view.ShownLines.Select(l => l.UnixNanos));

        view.SetFilter("(unclosed", caseSensitive: false, regex: true, invert: false);
        Assert.NotNull(view.FilterError);
        Assert.Equal(3, view.ShownLines.Count);
    }

    [Fact]
    public void Filter_LinesArrivingLater_AreFilteredAndTheMatchIsMarked()
    {
        var view = new LogView();
        view.SetFilter("err", caseSensitive: false, regex: false, invert: false);

        view.Add([Line(1, "all fine"), Line(2, "an ERRor here")]);

        var line = Assert.Single(view.ShownLines);
        var marked = view.Segments(line).Where(s => s.Match).Select(s => s.Text);
        Assert.Equal(["ERR"], marked);
    }

    [Fact]
    public void Add_LinesOfSeveralPods_AreMergedByTime()
    {
        var view = new LogView();
        view.Add([Line(10, "a1", "web-a"), Line(30, "a2", "web-a")]);
        view.Add([Line(20, "b1", "web-b"), Line(40, "b2", "web-b")]);

        Assert.Equal(["a1", "b1", "a2", "b2"], view.ShownLines.Select(l => l.Text));
    }

    [Fact]
    public void Add_BeyondCapacity_DropsTheOldestAndCountsThem()
    {
        var view = new LogView(capacity: 100);
        view.SetFilter("even", caseSensitive: false, regex: false, invert: false);

        view.Add([.. Enumerable.Range(1, 250).Select(i => Line(i, i % 2 == 0 ? $"even {i}" : $"odd {i}"))]);

        Assert.Equal(100, view.Count);
        Assert.Equal(150, view.DroppedOlder);
        Assert.Equal(Enumerable.Range(151, 100).Where(i => i % 2 == 0).Select(i => (long)i), view.ShownLines.Select(l => l.UnixNanos));
    }

    [Fact]
    public void Follow_WhenPaused_CountsNewShownLines_AndFollowingAgainResetsTheCount()
    {
        var view = new LogView();
        view.Add([Line(1, "one")]);
        view.Pause();

        view.Add([Line(2, "two"), Line(3, "three")]);
        Assert.False(view.Following);
        Assert.Equal(2, view.NewWhilePaused);

        view.Follow();
        Assert.Equal(0, view.NewWhilePaused);
    }

    [Fact]
    public void Segments_AnsiColoursBecomeClasses_AndAHugeLineIsCut()
    {
        var view = new LogView();
        var coloured = Line(1, "\u001b[31mfail\u001b[0m: <b>done</b>");
        var huge = Line(2, new string('x', 200_000));

        var segments = view.Segments(coloured);
        Assert.Equal(new LogSegment("fail", "ansi-fg-1", false), segments[0]);
        Assert.Equal(": <b>done</b>", segments[1].Text);
        Assert.Null(segments[1].Css);

        var cut = view.Segments(huge);
        Assert.True(cut.Sum(s => s.Text.Length) < 5_000);
        Assert.Contains("196,000 more characters", cut[^1].Text);
    }

    [Fact]
    public void KubeTime_FormatAndParse_RoundTripNanoseconds()
    {
        Assert.True(KubeTime.TryParse("2026-11-26T15:56:30.123456789Z", out var nanos));
        Assert.Equal("2026-11-26T15:56:30.123456789Z", KubeTime.Format(nanos));
        Assert.Equal("2026-11-26T15:56:30.123456790Z", KubeTime.Format(nanos + 1));
        Assert.True(KubeTime.TryParse("2026-11-26T15:56:30.5Z", out var coarse));
        Assert.Equal(nanos - 123456789 + 500_000_000, coarse);
        Assert.False(KubeTime.TryParse("2026-13-26T15:56:30.123456789Z", out _));
    }
}

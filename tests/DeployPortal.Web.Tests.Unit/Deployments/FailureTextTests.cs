using DeployPortal.Web.Deployments;

namespace DeployPortal.Web.Tests.Deployments;

public sealed class FailureTextTests
{
    private const string Crash =
        "The app crashes on start (CrashLoopBackOff; pod web-a restarted 1 time). Last lines of its log:\n"
        + "\u001b[41m\u001b[30mfail\u001b[39m\u001b[22m\u001b[49m: Microsoft.Extensions.Hosting.Internal.Host[11]\n"
        + "      Hosting failed to start\n"
        + "Unhandled exception. System.InvalidOperationException: Configuration value 'ConnectionStrings:Default' is missing.\n"
        + "   at shop.Startup.ConfigureDatabase(IServiceCollection services) in /src/Startup.cs:line 42\n";

    [Fact]
    public void Parse_ACrashWithItsLog_LeadsWithTheException_AndKeepsEachLogLineOnce()
    {
        var text = FailureText.Parse(Crash);

        Assert.Equal("System.InvalidOperationException: Configuration value 'ConnectionStrings:Default' is missing.", text.Exception);
        Assert.Equal("The app crashes on start (CrashLoopBackOff; pod web-a restarted 1 time).", text.Headline);
        Assert.Equal(4, text.LogLines.Count);
        Assert.StartsWith("\u001b[41m", text.LogLines[0]); // the colours stay for the renderer
        Assert.Equal(text.Headline, FailureText.HeadlineOf(Crash));
    }

    [Theory]
    [InlineData(Crash, "web-a")]
    [InlineData("The app crashes on start (CrashLoopBackOff; pod shop-7d9f8-x2x4q restarted 12 times).", "shop-7d9f8-x2x4q")]
    [InlineData("3/4 pods ready; restarted before becoming ready: web-a", null)]
    [InlineData("Image pull failed for registry/app:tag.", null)]
    public void CrashedPod_IsTheOneTheClustersSentenceNames(string reason, string? pod) =>
        Assert.Equal(pod, FailureText.Parse(reason).CrashedPod);

    [Theory]
    [InlineData("panic: no config", "panic: no config")]
    [InlineData("java.lang.IllegalStateException: no database", "java.lang.IllegalStateException: no database")]
    [InlineData("   at Program.Main() in /src/Program.cs:line 17", null)]
    [InlineData("fail: shop.Api[500] GET / failed after 3ms: TimeoutException: upstream", null)]
    public void Parse_FindsTheExceptionLineOnlyWhereALineIsOne(string line, string? expected) =>
        Assert.Equal(expected, FailureText.Parse("It crashed. Last lines of its log:\n" + line).Exception);

    [Fact]
    public void Parse_AReasonWithoutALog_IsItsOwnHeadline()
    {
        var text = FailureText.Parse("The image web:2 could not be pulled (ErrImagePull).");

        Assert.Equal(("The image web:2 could not be pulled (ErrImagePull).", null, 0), (text.Headline, text.Exception, text.LogLines.Count));
    }
}

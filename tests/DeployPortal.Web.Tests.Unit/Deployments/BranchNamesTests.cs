using DeployPortal.Web.Git;

namespace DeployPortal.Web.Tests.Deployments;

public sealed class BranchNamesTests
{
    private static readonly string[] Demo = ["main", "feature/login", "feature/payment", "crash-on-start"];

    [Theory]
    [InlineData("feature-login", "feature/login")]   // the separator
    [InlineData("Feature/Login", "feature/login")]   // the case
    [InlineData("login", "feature/login")]           // the prefix
    [InlineData("featre/paymnet", "feature/payment")] // two letters
    [InlineData("crash_on_start", "crash-on-start")]
    [InlineData("no-such-branch", null)]             // nothing close: no guess
    [InlineData("x", null)]
    [InlineData("", null)]
    public void Closest_SuggestsTheBranchMostLikelyMeant_OrNothing(string typed, string? expected) =>
        Assert.Equal(expected, BranchNames.Closest(typed, Demo));

    [Fact]
    public void NotFound_NamesTheAppTheTypedNameAndTheSuggestion() =>
        Assert.Equal("storefront's repository has no branch called \"feature-login\"; did you mean feature/login?",
            BranchNames.NotFound("storefront", "feature-login", Demo));
}

using DeployPortal.Web.Deployments;

namespace DeployPortal.Web.Tests.Deployments;

public sealed class KubeNamesTests
{
    public static TheoryData<string> Hostile => new()
    {
        "zzz\";echo${IFS}hi;#",
        "--upload-pack=x",
        "-leading-dash",
        "trailing-dash-",
        "../../etc/passwd",
        "feature/..",
        new string('a', 300),
        "Feature/UPPER_case.and_dots",
        "fix/ünïcødé-测试-🚀",
        "日本語",
        "   ",
        "-",
        "a",
        "$(rm -rf /)",
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Label_AnyInput_IsAValidDns1123Label_AndDeterministic(string input)
    {
        var label = KubeNames.Label(input);

        Assert.Matches("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", label);
        Assert.True(label.Length <= 63);
        Assert.Equal(label, KubeNames.Label(input));
    }

    [Fact]
    public void Label_ValidLabel_IsKeptAsItIs()
    {
        Assert.Equal("main", KubeNames.Label("main"));
        Assert.Equal("feature-login", KubeNames.Label("feature-login"));
    }

    [Fact]
    public void Label_BranchesThatSlugAlike_DoNotCollide()
    {
        var names = new[] { "feature/login", "feature-login", "Feature/Login", "feature_login", "feature//login" }.Select(b => KubeNames.Label(b)).ToList();

        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public void Label_TwoLongBranchesSharingTheFirst63Characters_DoNotCollide()
    {
        var prefix = new string('b', 70);
        var a = KubeNames.Label(prefix + "-one");
        var b = KubeNames.Label(prefix + "-two");

        Assert.NotEqual(a, b);
        Assert.Equal(63, a.Length);
    }

    [Theory]
    [InlineData("feature/login", "feature-login")]
    [InlineData("Feature/UPPER_case", "feature-upper-case")]
    [InlineData("--upload-pack=x", "upload-pack-x")]
    [InlineData("crash-on-start", "crash-on-start")]
    public void Slug_MatchesWhatCiTagsImagesWith(string branch, string slug) => Assert.Equal(slug, KubeNames.Slug(branch));

    [Fact]
    public void ImageReference_FillsTheTagTemplate()
    {
        var sha = "d7938cc0123456789abcdef0123456789abcdef0";

        Assert.Equal("reg/app:feature-x-d7938cc0", KubeNames.ImageReference("reg/app", "{branchSlug}-{shortSha}", "feature/x", sha));
        Assert.Equal($"reg/app:{sha}", KubeNames.ImageReference("reg/app", "{sha}", "main", sha));
    }

    [Fact]
    public void ImageReference_BranchSlugHash_TellsApartBranchesThatShareASlug()
    {
        var sha = "d7938cc0123456789abcdef0123456789abcdef0";
        string[] branches = ["feature/login", "feature-login", "feature_login"];

        var slugTags = branches.Select(b => KubeNames.ImageReference("reg/app", "{branchSlug}", b, sha)).Distinct().ToList();
        var hashTags = branches.Select(b => KubeNames.ImageReference("reg/app", "{branchSlugHash}", b, sha)).ToList();

        Assert.Equal(["reg/app:feature-login"], slugTags);
        Assert.Equal(3, hashTags.Distinct().Count());
        Assert.All(hashTags, t => Assert.Matches("^reg/app:feature-login-[0-9a-f]{6}$", t));
        Assert.Equal(hashTags[0], KubeNames.ImageReference("reg/app", "{branchSlugHash}", "feature/login", sha)); // deterministic
    }
}

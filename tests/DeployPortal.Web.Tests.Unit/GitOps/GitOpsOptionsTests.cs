using DeployPortal.Web.Deployments;
using DeployPortal.Web.GitOps;

namespace DeployPortal.Web.Tests.GitOps;

/// <summary>The GitOps settings' rules: the defaults pass, and each wrong value is named by its full key.</summary>
public sealed class GitOpsOptionsTests
{
    private static IReadOnlyList<string> Failures(GitOpsOptions o) => new GitOpsOptionsValidator().Validate(null, o) is { Failed: true } r ? [.. r.Failures!] : [];

    [Fact]
    public void Defaults_Pass()
    {
        Assert.Empty(Failures(new GitOpsOptions()));
        Assert.Equal(DeploymentMode.Direct, new DeploymentOptions().Mode);
    }

    [Fact]
    public void EachWrongValue_IsNamed_AndAllAreListedAtOnce()
    {
        var failures = Failures(new GitOpsOptions
        {
            Branch = "--upload-pack=x",
            PathTemplate = "../{app}/{slot}",
            ApplicationName = "{app}",
            AuthorEmail = "nobody",
            ArgoNamespace = "Argo CD",
            PushAttempts = 0,
            SyncTimeout = TimeSpan.Zero,
            SshKeyPath = "/no/such/key",
            SshKnownHostsPath = "/no/such/known_hosts",
        });

        Assert.Equal(
        [
            "GitOps:Branch must be a branch name such as main.",
            "GitOps:PathTemplate must not contain . or .. segments.",
            "GitOps:PathTemplate must name {slot} before {app}, so a slot's apps share one folder.",
            "GitOps:ApplicationName must contain {slot} and {app}.",
            "GitOps:AuthorEmail must be an e-mail address.",
            "GitOps:ArgoNamespace must be a namespace name.",
            "GitOps:PushAttempts must be between 1 and 20.",
            "GitOps:SyncTimeout must be positive.",
            "GitOps:SshKeyPath must name an existing key file.",
            "GitOps:SshKnownHostsPath must name an existing known_hosts file.",
        ], failures);
    }

    [Fact]
    public void PathTemplate_WithoutSlotOrApp_OrAbsolute_IsRefused()
    {
        Assert.Contains("GitOps:PathTemplate must contain {slot} and {app}.", Failures(new GitOpsOptions { PathTemplate = "apps/{app}/" }));
        Assert.Contains("GitOps:PathTemplate must be relative to the repository root.", Failures(new GitOpsOptions { PathTemplate = "/slots/{slot}/{app}/" }));
    }

    [Theory]
    [InlineData("https://github.com/acme/config/commit", false)]
    [InlineData("javascript:alert('{commit}')", false)]
    [InlineData("git.example.com/config/commit/{commit}", false)]
    [InlineData("https://git.example.com/platform/config/-/commit/{commit}", true)]
    public void CommitUrl_MustBeAWebAddressNamingTheCommit(string url, bool valid)
    {
        var failures = Failures(new GitOpsOptions { CommitUrl = url });

        Assert.Equal(valid ? [] : ["GitOps:CommitUrl must be an http(s) address containing {commit}."], failures);
    }

    [Fact]
    public void CommitLink_IsTheCommitsPage_OrNoneWithoutCommitUrl()
    {
        Assert.Null(new GitOpsOptions().CommitLink("3f2a9c1"));
        Assert.Equal("https://github.com/acme/config/commit/3f2a9c1e", new GitOpsOptions { CommitUrl = "https://github.com/acme/config/commit/{commit}" }.CommitLink("3f2a9c1e"));
    }

    [Fact]
    public void DeploymentMode_OutsideTheEnum_IsRefused()
    {
        var result = new DeploymentOptionsValidator().Validate(null, new DeploymentOptions { Mode = (DeploymentMode)7 });

        Assert.Equal(["Deployments:Mode must be Direct or GitOps."], result.Failures);
    }
}

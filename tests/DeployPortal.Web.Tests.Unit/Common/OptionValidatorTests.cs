using DeployPortal.Web.Api;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Logs;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Slots;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Tests.Common;

/// <summary>Each settings section's rules, one at a time: the shipped defaults pass, and each wrong value is named by its full key.</summary>
public sealed class OptionValidatorTests
{
    [Fact]
    public void ShippedDefaults_PassEveryValidator()
    {
        Assert.Empty(Failures(new HoldOptionsValidator().Validate(null, new HoldOptions())));
        Assert.Empty(Failures(new IdleOptionsValidator().Validate(null, new IdleOptions())));
        Assert.Empty(Failures(new NotificationOptionsValidator().Validate(null, new NotificationOptions())));
        Assert.Empty(Failures(new DeploymentOptionsValidator().Validate(null, new DeploymentOptions())));
        Assert.Empty(Failures(new LogOptionsValidator().Validate(null, new LogOptions())));
        Assert.Empty(Failures(new DatabaseOptionsValidator().Validate(null, new DatabaseOptions())));
        Assert.Empty(Failures(new PortalOptionsValidator().Validate(null, new PortalOptions())));
        Assert.Empty(Failures(new ClusterOptionsValidator().Validate(null, new ClusterOptions())));
        Assert.Empty(Failures(new ApiRateLimitOptionsValidator().Validate(null, new ApiRateLimitOptions())));
        Assert.Empty(Failures(new AccessTokenOptionsValidator().Validate(null, new AccessTokenOptions())));
        Assert.Empty(Failures(new OidcSignInOptionsValidator().Validate(null, new OidcSignInOptions())));
        Assert.Empty(Failures(new SessionOptionsValidator().Validate(null, new SessionOptions())));
        Assert.Empty(Failures(DevSignIn("Development").Validate(null, new DevSignInOptions { Enabled = true })));
    }

    [Fact]
    public void Idle_EachDurationIsCheckedOnItsOwn_AndAllFailuresAreListedAtOnce()
    {
        var failures = Failures(new IdleOptionsValidator().Validate(null, new IdleOptions
        {
            After = TimeSpan.FromHours(2), // fine: a wrong neighbour must not hide behind it, nor it behind one
            ReleaseAfter = TimeSpan.FromMinutes(-30),
            AnswerWithinWhenQueued = TimeSpan.Zero,
        }));

        Assert.Equal(["Idle:ReleaseAfter must be positive.", "Idle:AnswerWithinWhenQueued must be positive."], failures);
        Assert.Empty(Failures(new IdleOptionsValidator().Validate(null, new IdleOptions { ReleaseAfter = null })));
        Assert.Equal(["Idle:WithAppTraffic:AnswerWithinWhenQueued must be positive."], Failures(new IdleOptionsValidator().Validate(null,
            new IdleOptions { WithAppTraffic = new() { ReleaseAfter = TimeSpan.FromMinutes(20), AnswerWithin = TimeSpan.FromMinutes(10), AskWhenQueuedAfter = TimeSpan.FromMinutes(10) } })));
    }

    [Theory]
    [InlineData("00:01:00", "00:05:00", "Holds:MinDuration must be at most Holds:DefaultDuration.")]
    [InlineData("48:00:00", "00:05:00", "Holds:DefaultDuration must be at most Holds:MaxDuration.")]
    [InlineData("04:00:00", "-00:05:00", "Holds:MinDuration must be positive.")]
    public void Holds_DurationsMustNest(string defaultDuration, string minDuration, string message)
    {
        var failures = Failures(new HoldOptionsValidator().Validate(null, new HoldOptions
        {
            DefaultDuration = TimeSpan.Parse(defaultDuration, System.Globalization.CultureInfo.InvariantCulture),
            MinDuration = TimeSpan.Parse(minDuration, System.Globalization.CultureInfo.InvariantCulture),
            RemindBefore = TimeSpan.Zero,
        }));

        Assert.Contains(message, failures);
    }

    [Fact]
    public void Holds_FairUseCaps_MustBePositiveWhenSet()
    {
        var failures = Failures(new HoldOptionsValidator().Validate(null, new HoldOptions { MaxHeldPerPerson = 0, MaxHeldPerRole = { ["Developer"] = -1 } }));

        Assert.Equal(["Holds:MaxHeldPerPerson must be positive.", "Every Holds:MaxHeldPerRole value must be positive."], failures);
    }

    [Fact]
    public void Notifications_NamesUrlsAndSecrets_AreChecked()
    {
        var failures = Failures(new NotificationOptionsValidator().Validate(null, new NotificationOptions
        {
            Retries = 11,
            PublicUrl = new Uri("/portal", UriKind.Relative),
            Webhooks =
            [
                new WebhookOptions { Name = "team", Url = new Uri("https://hooks.example.com/a"), Secret = "hunter2" },
                new WebhookOptions { Name = "Team", Url = new Uri("ftp://hooks.example.com/b") },
            ],
        }));

        Assert.Equal(
        [
            "Notifications:PublicUrl must be an absolute http(s) address.",
            "Notifications:Retries must be between 0 and 10.",
            "The names of Notifications:Webhooks must differ.",
            "Every entry of Notifications:Webhooks needs an absolute http(s) Url.",
            "A Notifications:Webhooks Secret is base64 of 24 to 64 random bytes, optionally prefixed whsec_ (e.g. the output of openssl rand -base64 32).",
        ], failures);
    }

    [Fact]
    public void Session_RevalidateEvery_MustStayWithinAMinute()
    {
        var failures = Failures(new SessionOptionsValidator().Validate(null, new SessionOptions { RevalidateEvery = TimeSpan.FromMinutes(5), MaxCircuitsPerUser = 0 }));

        Assert.Equal(["Auth:Session:MaxCircuitsPerUser must be positive.", "Auth:Session:RevalidateEvery must be between 00:00:01 and 00:01:00."], failures);
    }

    [Fact]
    public void Oidc_WhenOn_NeedsAnAbsoluteAuthorityClientAndSecret_AndHttpsUnlessSaidOtherwise()
    {
        var on = new OidcSignInOptions { Enabled = true, Authority = "http://idp.example.com", ClientId = "portal", ClientSecret = "" };

        var failures = Failures(new OidcSignInOptionsValidator().Validate(null, on));

        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("Auth:Oidc:ClientSecret is required", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Auth:Oidc:RequireHttpsMetadata", StringComparison.Ordinal));
        on.ClientSecret = "s";
        on.RequireHttpsMetadata = false;
        Assert.Empty(Failures(new OidcSignInOptionsValidator().Validate(null, on)));
    }

    [Fact]
    public void DevSignIn_IsRefusedInProduction_AndBesideOpenIdConnect()
    {
        Assert.Single(Failures(DevSignIn("Production").Validate(null, new DevSignInOptions { Enabled = true })), f => f.Contains("refused in Production", StringComparison.Ordinal));
        Assert.Empty(Failures(DevSignIn("Production").Validate(null, new DevSignInOptions { Enabled = false })));
        Assert.Single(Failures(DevSignIn("Development", oidc: true).Validate(null, new DevSignInOptions { Enabled = true })), f => f.Contains("when OpenID Connect is on", StringComparison.Ordinal));
    }

    [Fact]
    public void Cluster_KubeconfigModeNeedsAPath_AndRetriesCannotBeNegative()
    {
        var failures = Failures(new ClusterOptionsValidator().Validate(null, new ClusterOptions { Mode = ClusterMode.Kubeconfig, MaxRetries = -1, Server = "not a url" }));

        Assert.Equal(["Cluster:KubeconfigPath is required in Kubeconfig mode.", "Cluster:Server must be an absolute URL, e.g. https://k3s:6443.", "Cluster:MaxRetries must not be negative."], failures);
    }

    private static DevSignInOptionsValidator DevSignIn(string environment, bool oidc = false) =>
        new(new FixedEnvironment(environment), Options.Create(new OidcSignInOptions { Enabled = oidc }));

    private static List<string> Failures(ValidateOptionsResult result) => result.Failures?.ToList() ?? [];

    private sealed class FixedEnvironment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "DeployPortal.Web";
        public string ContentRootPath { get; set; } = "/";
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}

using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.GitOps;

/// <summary>Bound from <c>GitOps</c>; used when <c>Deployments:Mode</c> is <c>GitOps</c> (docs/gitops.md).</summary>
public sealed class GitOpsOptions
{
    public const string Section = "GitOps";

    /// <summary>
    /// The configuration repository the portal pushes to: a URL (https://, ssh://, git@host:path) or a local path. Empty:
    /// a bare repository in the data folder (<c>gitops-config.git</c>), created on first use.
    /// </summary>
    public string Repository { get; set; } = "";

    /// <summary>The branch the portal commits to and Argo CD follows.</summary>
    public string Branch { get; set; } = "main";

    /// <summary>Where one app's manifests live in the repository; <c>{slot}</c> and <c>{app}</c> are replaced.</summary>
    public string PathTemplate { get; set; } = "slots/{slot}/{app}/";

    public string AuthorName { get; set; } = "DeployPortal";

    public string AuthorEmail { get; set; } = "deployportal@localhost";

    /// <summary>An HTTPS access token for pushing (sent as HTTP basic auth with user <see cref="TokenUser"/>, never written to disk).</summary>
    public string? HttpsToken { get; set; }

    /// <summary>The user name sent with <see cref="HttpsToken"/> (GitHub: x-access-token; GitLab: oauth2).</summary>
    public string TokenUser { get; set; } = "x-access-token";

    /// <summary>A private key file for pushing over SSH (used with <c>ssh -i</c>, host keys checked against known_hosts).</summary>
    public string? SshKeyPath { get; set; }

    /// <summary>
    /// A known_hosts file with the git server's host key, for <see cref="SshKeyPath"/> (a mounted Secret, where the
    /// container has no home folder to keep one in); empty: ssh's usual known_hosts.
    /// </summary>
    public string? SshKnownHostsPath { get; set; }

    /// <summary>How many times a push rejected because someone else pushed first is rebased and tried again.</summary>
    public int PushAttempts { get; set; } = 4;

    /// <summary>The namespace of Argo CD's Application objects.</summary>
    public string ArgoNamespace { get; set; } = "argocd";

    /// <summary>The name of the Application of one app in one slot; <c>{slot}</c> and <c>{app}</c> are replaced.</summary>
    public string ApplicationName { get; set; } = "{slot}-{app}";

    /// <summary>
    /// Create the Application when it is missing (the embedded default and tests). Off when an ApplicationSet makes them:
    /// the portal then waits for it.
    /// </summary>
    public bool CreateApplications { get; set; } = true;

    /// <summary>The repository URL written into Applications the portal creates (as Argo CD reaches it); empty: <see cref="Repository"/>.</summary>
    public string? ArgoRepoUrl { get; set; }

    /// <summary>How long a deployment waits for Argo CD to sync its commit and report the app healthy.</summary>
    public TimeSpan SyncTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The git server's web page of one commit of the configuration repository, <c>{commit}</c> replaced (e.g.
    /// <c>https://github.com/acme/config/commit/{commit}</c>): a deployment's commit is then a link. Empty: shown as text.
    /// </summary>
    public string? CommitUrl { get; set; }

    /// <summary>The web page of <paramref name="commit"/>, or null without <see cref="CommitUrl"/>.</summary>
    public string? CommitLink(string commit) =>
        string.IsNullOrWhiteSpace(CommitUrl) ? null : CommitUrl.Replace("{commit}", Uri.EscapeDataString(commit), StringComparison.Ordinal);
}

internal sealed class GitOpsOptionsValidator : IValidateOptions<GitOpsOptions>
{
    public ValidateOptionsResult Validate(string? name, GitOpsOptions o) => new OptionRules(GitOpsOptions.Section)
        .Check(Branches.IsValid(o.Branch), "GitOps:Branch must be a branch name such as main.")
        .Check(o.PathTemplate.Contains("{slot}", StringComparison.Ordinal) && o.PathTemplate.Contains("{app}", StringComparison.Ordinal),
            "GitOps:PathTemplate must contain {slot} and {app}.")
        .Check(!o.PathTemplate.Split('/').Any(p => p is ".." or "."), "GitOps:PathTemplate must not contain . or .. segments.")
        .Check(!o.PathTemplate.StartsWith('/'), "GitOps:PathTemplate must be relative to the repository root.")
        .Check(o.PathTemplate.IndexOf("{slot}", StringComparison.Ordinal) < o.PathTemplate.IndexOf("{app}", StringComparison.Ordinal),
            "GitOps:PathTemplate must name {slot} before {app}, so a slot's apps share one folder.")
        .Check(o.ApplicationName.Contains("{slot}", StringComparison.Ordinal) && o.ApplicationName.Contains("{app}", StringComparison.Ordinal),
            "GitOps:ApplicationName must contain {slot} and {app}.")
        .Check(!string.IsNullOrWhiteSpace(o.AuthorName), "GitOps:AuthorName must not be empty.")
        .Check(o.AuthorEmail.Contains('@'), "GitOps:AuthorEmail must be an e-mail address.")
        .Check(Deployments.KubeNames.IsLabel(o.ArgoNamespace), "GitOps:ArgoNamespace must be a namespace name.")
        .Between(nameof(o.PushAttempts), o.PushAttempts, 1, 20)
        .Positive(nameof(o.SyncTimeout), o.SyncTimeout)
        .Check(string.IsNullOrWhiteSpace(o.CommitUrl) || o.CommitUrl.Contains("{commit}", StringComparison.Ordinal)
            && Uri.TryCreate(o.CommitUrl.Replace("{commit}", "0", StringComparison.Ordinal), UriKind.Absolute, out var page) && page.Scheme is "https" or "http",
            "GitOps:CommitUrl must be an http(s) address containing {commit}.")
        .Check(o.SshKeyPath is null || File.Exists(o.SshKeyPath), "GitOps:SshKeyPath must name an existing key file.")
        .Check(o.SshKnownHostsPath is null || File.Exists(o.SshKnownHostsPath), "GitOps:SshKnownHostsPath must name an existing known_hosts file.")
        .Result();

    private static class Branches
    {
        public static bool IsValid(string branch) => branch.Length > 0 && !branch.StartsWith('-') && !branch.Contains("..", StringComparison.Ordinal)
            && branch.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '/' or '.');
    }
}

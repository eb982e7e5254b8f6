using DeployPortal.Web.Apps;
using Microsoft.Extensions.Caching.Memory;

namespace DeployPortal.Web.Git;

/// <summary>
/// The branches of each app's repository, cached briefly (a form should not hit the remote on every
/// keystroke) with an explicit refresh. Resolving a branch for a deployment always asks the remote.
/// </summary>
internal sealed class BranchCatalog(GitClient git, IMemoryCache cache)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(2);

    public async Task<IReadOnlyList<RemoteBranch>> ListAsync(AppDefinition app, bool refresh = false, CancellationToken ct = default)
    {
        var key = ("branches", app.GitRemote);
        if (!refresh && cache.TryGetValue(key, out IReadOnlyList<RemoteBranch>? cached) && cached is not null)
        {
            return cached;
        }

        var branches = await git.ListBranchesAsync(app.GitRemote, ct);
        cache.Set(key, branches, CacheFor);
        return branches;
    }

    /// <summary>The branch's current commit, from the remote itself; null when it has no such branch.</summary>
    public async Task<RemoteBranch?> ResolveAsync(AppDefinition app, string branch, CancellationToken ct = default)
    {
        var branches = await ListAsync(app, refresh: true, ct);
        return branches.FirstOrDefault(b => string.Equals(b.Name, branch, StringComparison.Ordinal));
    }
}

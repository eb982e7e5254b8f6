using System.Security.Claims;

namespace DeployPortal.Web.Auth;

/// <summary>The portal's roles. Identity providers' groups are mapped onto these.</summary>
public static class PortalRoles
{
    public const string Viewer = "Viewer";
    public const string Developer = "Developer";
    public const string QA = "QA";
    public const string Admin = "Admin";

    public static readonly IReadOnlyList<string> All = [Viewer, Developer, QA, Admin];
}

/// <summary>Claim types the portal issues and reads; OpenID Connect's names, not WS-Federation URIs.</summary>
public static class PortalClaims
{
    public const string Subject = "sub";
    public const string Name = "name";
    public const string Role = "role";

    /// <summary>The server-side session a browser's principal comes from (<see cref="SessionStore"/>); never issued to anyone.</summary>
    public const string Session = "portal_session";
}

/// <summary>
/// Named policies, defined once. ASP.NET Core authorization uses them for endpoints and pages, and the
/// services that change state check the same definitions through <see cref="Can"/>.
/// </summary>
public static class Policies
{
    /// <summary>Claim a free slot, extend and release one's own hold.</summary>
    public const string HoldSlots = nameof(HoldSlots);

    /// <summary>Release any slot, recording the QA outcome.</summary>
    public const string ReleaseAnySlot = nameof(ReleaseAnySlot);

    /// <summary>Force-release, add, edit and disable slots, settings, the jobs dashboard.</summary>
    public const string Administer = nameof(Administer);

    private static readonly Dictionary<string, string[]> RolesByPolicy = new()
    {
        [HoldSlots] = [PortalRoles.Developer, PortalRoles.QA, PortalRoles.Admin],
        [ReleaseAnySlot] = [PortalRoles.QA, PortalRoles.Admin],
        [Administer] = [PortalRoles.Admin],
    };

    public static void AddPortalPolicies(this Microsoft.AspNetCore.Authorization.AuthorizationOptions options)
    {
        foreach (var (policy, roles) in RolesByPolicy)
        {
            options.AddPolicy(policy, p => p.RequireAuthenticatedUser().RequireRole(roles));
        }
    }

    public static bool Can(this ClaimsPrincipal user, string policy) =>
        user.Identity?.IsAuthenticated == true && RolesByPolicy[policy].Any(user.IsInRole);
}

/// <summary>Who is acting, as recorded on holds and audit events.</summary>
public sealed record Actor(string Id, string Name)
{
    public static readonly Actor System = new("system", "DeployPortal");

    public static Actor From(ClaimsPrincipal user)
    {
        var id = user.FindFirst(PortalClaims.Subject)?.Value ?? user.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? user.Identity?.Name;
        var name = user.FindFirst(PortalClaims.Name)?.Value ?? user.Identity?.Name ?? id;
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(name))
        {
            throw new InvalidOperationException("The signed-in user has no subject or name claim.");
        }

        return new Actor(id, name);
    }
}

using System.Security.Claims;
using DeployPortal.Web.Auth;

namespace DeployPortal.Web.Tests.Infrastructure;

public static class TestUsers
{
    public static ClaimsPrincipal Anonymous { get; } = new(new ClaimsIdentity());
    public static ClaimsPrincipal Viewer { get; } = Make("val", "Val Viewer", PortalRoles.Viewer);
    public static ClaimsPrincipal Dana { get; } = Make("dana", "Dana Developer", PortalRoles.Developer);
    public static ClaimsPrincipal Devon { get; } = Make("devon", "Devon Developer", PortalRoles.Developer);
    public static ClaimsPrincipal Quinn { get; } = Make("quinn", "Quinn QA", PortalRoles.QA);
    public static ClaimsPrincipal Ada { get; } = Make("ada", "Ada Admin", PortalRoles.Admin);

    public static ClaimsPrincipal Make(string id, string name, string role) => new(new ClaimsIdentity(
        [new Claim(PortalClaims.Subject, id), new Claim(PortalClaims.Name, name), new Claim(PortalClaims.Role, role)],
        "Test", PortalClaims.Name, PortalClaims.Role));
}

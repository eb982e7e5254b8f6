using System.Security.Claims;
using DeployPortal.Web.Audit;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace DeployPortal.Web.Auth;

/// <summary>Bound from <c>Auth:DevSignIn</c>. Demo users, one per role, for the embedded default only.</summary>
internal sealed class DevSignInOptions
{
    public const string Section = "Auth:DevSignIn";

    public bool Enabled { get; set; }

    public List<DemoUser> Users { get; set; } =
    [
        new("viewer", "Val Viewer", PortalRoles.Viewer),
        new("dana", "Dana Developer", PortalRoles.Developer),
        new("devon", "Devon Developer", PortalRoles.Developer),
        new("quinn", "Quinn QA", PortalRoles.QA),
        new("ada", "Ada Admin", PortalRoles.Admin),
    ];
}

internal sealed record DemoUser(string Id, string Name, string Role);

internal static class DevSignInEndpoints
{
    public static IEndpointRouteBuilder MapDevSignIn(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/account/dev-signin", async (HttpContext http, IAntiforgery antiforgery,
            Microsoft.Extensions.Options.IOptions<DevSignInOptions> options, SecurityAudit audit) =>
        {
            if (!options.Value.Enabled)
            {
                return Results.NotFound();
            }

            // Checked here rather than by the form binder, which answers a missing token with an exception (500).
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Results.BadRequest("The sign-in form expired. Reload the sign-in page and pick a user again.");
            }

            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var (user, returnUrl) = (form["user"].ToString(), form["returnUrl"].ToString());
            var demo = options.Value.Users.FirstOrDefault(u => u.Id == user);
            if (demo is null)
            {
                return Results.Redirect("/signin?error=unknown-user");
            }

            var identity = new ClaimsIdentity(
                [
                    new Claim(PortalClaims.Subject, "dev:" + demo.Id),
                    new Claim(PortalClaims.Name, demo.Name),
                    new Claim(PortalClaims.Role, demo.Role),
                ],
                authenticationType: "DevSignIn", nameType: PortalClaims.Name, roleType: PortalClaims.Role);
            await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
            await audit.RecordAsync("dev:" + demo.Id, demo.Name, AuditActions.SignIn, $"development sign-in as {demo.Role}");
            return Results.LocalRedirect(SafeReturnUrl(returnUrl));
        }).AllowAnonymous().DisableAntiforgery();

        return endpoints;
    }

    public static string SafeReturnUrl(string? returnUrl) => AccountEndpoints.SafeReturnUrl(returnUrl);
}

using Microsoft.AspNetCore.Authentication.Cookies;

namespace DeployPortal.Web.Auth;

public static class AuthExtensions
{
    /// <summary>
    /// Cookie authentication with the portal's named policies; every page requires a signed-in user.
    /// Sign-in schemes (the development sign-in now, OpenID Connect later) issue the same cookie with
    /// <see cref="PortalClaims"/>, so nothing downstream knows which one was used.
    /// </summary>
    public static WebApplicationBuilder AddPortalAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DevSignInOptions>().BindConfiguration(DevSignInOptions.Section)
            .Validate(o => !o.Enabled || !builder.Environment.IsProduction(),
                "The development sign-in (Auth:DevSignIn:Enabled) is refused in Production. Configure OpenID Connect instead.")
            .ValidateOnStart();

        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/signin";
                o.AccessDeniedPath = "/signin";
                o.Cookie.Name = "deployportal.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromHours(10);
            });

        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        builder.Services.AddAuthorization(o => o.AddPortalPolicies());
        builder.Services.AddCascadingAuthenticationState();
        return builder;
    }

    public static WebApplication MapPortalAuth(this WebApplication app)
    {
        app.MapDevSignIn();
        return app;
    }
}

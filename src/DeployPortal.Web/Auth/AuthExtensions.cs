using DeployPortal.Web.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Auth;

public static class AuthExtensions
{
    /// <summary>The OpenID Connect scheme's name; its callback paths are /signin-oidc and /signout-callback-oidc.</summary>
    public const string OidcScheme = OpenIdConnectDefaults.AuthenticationScheme;

    /// <summary>
    /// Cookie authentication with the portal's named policies; every page requires a signed-in user.
    /// Sign-in schemes (the development sign-in, OpenID Connect) issue the same cookie with
    /// <see cref="PortalClaims"/>, so nothing downstream knows which one was used. Machines use personal
    /// access tokens, a separate scheme that only the API accepts.
    /// </summary>
    public static WebApplicationBuilder AddPortalAuth(this WebApplicationBuilder builder)
    {
        var development = builder.Environment.IsDevelopment();
        builder.Services.AddOptions<DevSignInOptions>().BindConfiguration(DevSignInOptions.Section)
            .Validate(o => !o.Enabled || !builder.Environment.IsProduction(),
                "The development sign-in (Auth:DevSignIn:Enabled) is refused in Production. Configure OpenID Connect instead.")
            .Validate(o => !o.Enabled || !builder.Configuration.GetValue<bool>(OidcSignInOptions.Section + ":Enabled"),
                "The development sign-in is for the embedded default only: turn it off (Auth:DevSignIn:Enabled=false) when OpenID Connect is on.")
            .ValidateOnStart();
        builder.Services.AddOptions<OidcSignInOptions>().BindConfiguration(OidcSignInOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => !o.Enabled || (Uri.TryCreate(o.Authority, UriKind.Absolute, out _) && !string.IsNullOrWhiteSpace(o.ClientId)),
                "Auth:Oidc:Authority (an absolute URL) and Auth:Oidc:ClientId are required when Auth:Oidc:Enabled is true.")
            .Validate(o => o.RoleMap.Values.All(r => PortalRoles.All.Contains(r, StringComparer.OrdinalIgnoreCase)),
                $"Every value of Auth:Oidc:RoleMap must be a portal role: {string.Join(", ", PortalRoles.All)}.")
            .ValidateOnStart();
        builder.Services.AddOptions<SessionOptions>().BindConfiguration(SessionOptions.Section)
            .Validate(o => o.MaxCircuitsPerUser > 0, "Auth:Session:MaxCircuitsPerUser must be positive.")
            .ValidateOnStart();
        builder.Services.AddAccessTokens();

        var oidc = builder.Configuration.GetSection(OidcSignInOptions.Section).Get<OidcSignInOptions>() ?? new OidcSignInOptions();
        var authentication = builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/signin";
                o.AccessDeniedPath = "/signin";
                // __Host- binds the cookie to this exact origin (Secure, Path=/, no Domain). Browsers only
                // accept it over HTTPS, so plain-HTTP development keeps an unprefixed name.
                o.Cookie.Name = development ? "deployportal.auth" : "__Host-deployportal.auth";
                o.Cookie.SecurePolicy = development ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromHours(10);
                if (oidc.Enabled)
                {
                    o.Events.OnValidatePrincipal = context => context.HttpContext.RequestServices
                        .GetRequiredService<CookieOidcRefresher>().ValidateOrRefreshCookieAsync(context, OidcScheme);
                }
            })
            .AddAccessTokenScheme();

        if (oidc.Enabled)
        {
            authentication.AddOpenIdConnect(OidcScheme, _ => { });
            builder.Services.AddOptions<OpenIdConnectOptions>(OidcScheme).Configure<IOptions<OidcSignInOptions>>((o, signIn) =>
                ConfigureOpenIdConnect(o, signIn.Value, development));
            builder.Services.AddSingleton<CookieOidcRefresher>();
        }

        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = development ? "deployportal.antiforgery" : "__Host-deployportal.antiforgery";
            o.Cookie.SecurePolicy = development ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        });
        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        builder.Services.AddAuthorization(o => o.AddPortalPolicies());
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddSingleton<SecurityAudit>();
        builder.Services.AddSingleton<CircuitCounter>();
        builder.Services.AddScoped<CircuitHandler, CircuitLimitHandler>();
        return builder;
    }

    private static void ConfigureOpenIdConnect(OpenIdConnectOptions o, OidcSignInOptions signIn, bool development)
    {
        o.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
        o.SignOutScheme = CookieAuthenticationDefaults.AuthenticationScheme;
        o.Authority = signIn.Authority;
        if (!string.IsNullOrWhiteSpace(signIn.MetadataAddress))
        {
            o.MetadataAddress = signIn.MetadataAddress;
        }

        o.ClientId = signIn.ClientId;
        o.ClientSecret = signIn.ClientSecret;
        o.RequireHttpsMetadata = signIn.RequireHttpsMetadata;
        o.ResponseType = "code";
        o.UsePkce = true;
        o.SaveTokens = true; // the refresh token for CookieOidcRefresher, the ID token as id_token_hint at logout
        o.MapInboundClaims = false;
        o.GetClaimsFromUserInfoEndpoint = false;
        o.Scope.Clear();
        foreach (var scope in signIn.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            o.Scope.Add(scope);
        }

        o.TokenValidationParameters.NameClaimType = PortalClaims.Name;
        o.TokenValidationParameters.RoleClaimType = PortalClaims.Role;
        o.CallbackPath = "/signin-oidc";
        o.SignedOutCallbackPath = "/signout-callback-oidc";
        if (development)
        {
            // SameSite=None requires Secure, which plain-HTTP loopback cannot give; Lax still reaches the
            // callback on a top-level navigation. Production keeps the secure defaults (None + Secure).
            o.CorrelationCookie.SameSite = SameSiteMode.Lax;
            o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.NonceCookie.SameSite = SameSiteMode.Lax;
            o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        }

        o.Events.OnTokenValidated = OnTokenValidatedAsync;
        o.Events.OnRemoteFailure = context =>
        {
            context.HttpContext.RequestServices.GetRequiredService<ILogger<OidcSignInOptions>>()
                .LogWarning(context.Failure, "OpenID Connect sign-in failed");
            context.Response.Redirect("/signin?error=sso-failed");
            context.HandleResponse();
            return Task.CompletedTask;
        };
    }

    private static async Task OnTokenValidatedAsync(TokenValidatedContext context)
    {
        var services = context.HttpContext.RequestServices;
        var options = services.GetRequiredService<IOptionsMonitor<OidcSignInOptions>>().CurrentValue;
        var audit = services.GetRequiredService<SecurityAudit>();
        var decision = PortalSignIn.FromIdentityProvider(context.Principal!, options);
        if (decision.Refused)
        {
            await audit.RecordAsync(decision.Subject, decision.Name, AuditActions.SignInRefused, decision.Refusal!);
            context.Response.Redirect("/signin?error=denied");
            context.HandleResponse();
            return;
        }

        context.Principal = decision.Principal;
        await audit.RecordAsync(decision.Subject, decision.Name, AuditActions.SignIn,
            $"OpenID Connect as {string.Join(", ", decision.Principal!.FindAll(PortalClaims.Role).Select(c => c.Value))}");
    }

    public static WebApplication MapPortalAuth(this WebApplication app)
    {
        app.MapDevSignIn();
        app.MapAccountEndpoints();
        return app;
    }
}

/// <summary>Bound from <c>Auth:Session</c>.</summary>
public sealed class SessionOptions
{
    public const string Section = "Auth:Session";

    /// <summary>Open interactive circuits (tabs) one person may hold; each costs server memory.</summary>
    public int MaxCircuitsPerUser { get; set; } = 20;
}

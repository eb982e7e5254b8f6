using System.Security.Claims;
using DeployPortal.Web.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Components.Authorization;
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
        builder.Services.AddOptionsWithValidateOnStart<DevSignInOptions, DevSignInOptionsValidator>().BindConfiguration(DevSignInOptions.Section);
        builder.Services.AddOptionsWithValidateOnStart<OidcSignInOptions, OidcSignInOptionsValidator>().BindConfiguration(OidcSignInOptions.Section);
        builder.Services.AddOptionsWithValidateOnStart<SessionOptions, SessionOptionsValidator>().BindConfiguration(SessionOptions.Section);
        builder.Services.AddOptions<PlainHttpOptions>().BindConfiguration(PlainHttpOptions.Section);
        builder.Services.AddAccessTokens();

        var oidc = builder.Configuration.GetSection(OidcSignInOptions.Section).Get<OidcSignInOptions>() ?? new OidcSignInOptions();
        // Secure cookies unless the portal is reached over plain HTTP on purpose: in development, or on loopback when
        // the operator allows it (Auth:PlainHttp:AllowOnLoopback, the docker-compose demo). Decided once, here.
        var plainHttp = development || builder.Configuration.GetValue<bool>(PlainHttpOptions.Section + ":AllowOnLoopback");
        var authentication = builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/signin";
                o.AccessDeniedPath = "/access-denied";
                // __Host- binds the cookie to this exact origin (Secure, Path=/, no Domain). Browsers only
                // accept it over HTTPS, so plain HTTP keeps an unprefixed name.
                o.Cookie.Name = plainHttp ? "deployportal.auth" : "__Host-deployportal.auth";
                o.Cookie.SecurePolicy = plainHttp ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromHours(10);
                if (oidc.Enabled)
                {
                    o.Events.OnValidatePrincipal = context => context.HttpContext.RequestServices
                        .GetRequiredService<SessionRefresher>().ValidatePrincipalAsync(context);
                }
            })
            .AddAccessTokenScheme();
        // The cookie names a server-side session; the ticket (and the provider's tokens) stay in the database.
        builder.Services.AddSingleton<SessionStore>();
        builder.Services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .Configure<SessionStore>((o, store) => o.SessionStore = store);
        builder.Services.AddSingleton<SessionMonitor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SessionMonitor>());
        builder.Services.AddScoped<CircuitSession>();
        builder.Services.AddScoped<AuthenticationStateProvider, SessionAuthenticationStateProvider>();
        builder.Services.AddScoped<CircuitHandler, SessionCircuitHandler>();

        if (oidc.Enabled)
        {
            authentication.AddOpenIdConnect(OidcScheme, _ => { });
            builder.Services.AddOptions<OpenIdConnectOptions>(OidcScheme).Configure<IOptions<OidcSignInOptions>>((o, signIn) =>
                ConfigureOpenIdConnect(o, signIn.Value, plainHttp));
            builder.Services.AddSingleton<SessionRefresher>();
            builder.Services.AddHostedService<OidcDiscoveryCheck>();
        }

        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = plainHttp ? "deployportal.antiforgery" : "__Host-deployportal.antiforgery";
            o.Cookie.SecurePolicy = plainHttp ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
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

    private static void ConfigureOpenIdConnect(OpenIdConnectOptions o, OidcSignInOptions signIn, bool plainHttp)
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
        o.SaveTokens = true; // kept in the server-side session: the refresh token for SessionRefresher, the ID token as id_token_hint at logout
        o.MapInboundClaims = false;
        // Userinfo is read by OnTokenValidated itself, when the options want it, so sign-in and refresh read claims alike.
        o.GetClaimsFromUserInfoEndpoint = false;
        o.Prompt = signIn.EffectivePrompt;
        foreach (var (name, value) in signIn.AuthorizationParameters)
        {
            o.AdditionalAuthorizationParameters[name] = value;
        }

        o.BackchannelTimeout = signIn.DiscoveryTimeout;
        o.Scope.Clear();
        foreach (var scope in signIn.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            o.Scope.Add(scope);
        }

        o.TokenValidationParameters.NameClaimType = PortalClaims.Name;
        o.TokenValidationParameters.RoleClaimType = PortalClaims.Role;
        o.CallbackPath = "/signin-oidc";
        o.SignedOutCallbackPath = "/signout-callback-oidc";
        if (plainHttp)
        {
            // SameSite=None requires Secure, which plain HTTP cannot give; Lax still reaches the
            // callback on a top-level navigation. HTTPS keeps the secure defaults (None + Secure).
            o.CorrelationCookie.SameSite = SameSiteMode.Lax;
            o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.NonceCookie.SameSite = SameSiteMode.Lax;
            o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        }

        o.Events.OnTokenValidated = OnTokenValidatedAsync;
        o.Events.OnTicketReceived = OnTicketReceived;
        o.Events.OnRemoteFailure = context =>
        {
            OidcFailures.Log(context.HttpContext, context.Failure);
            context.Response.Redirect($"/signin?error=sso-failed&request={Uri.EscapeDataString(context.HttpContext.TraceIdentifier)}");
            context.HandleResponse();
            return Task.CompletedTask;
        };
    }

    private static async Task OnTokenValidatedAsync(TokenValidatedContext context)
    {
        var services = context.HttpContext.RequestServices;
        var options = services.GetRequiredService<IOptionsMonitor<OidcSignInOptions>>().CurrentValue;
        var audit = services.GetRequiredService<SecurityAudit>();
        var logger = services.GetRequiredService<ILogger<OidcSignInOptions>>();
        if (context.Principal!.Identity is ClaimsIdentity external && options.WantsUserInfo(external)
            && context.TokenEndpointResponse?.AccessToken is { Length: > 0 } accessToken)
        {
            var configuration = await context.Options.ConfigurationManager!.GetConfigurationAsync(context.HttpContext.RequestAborted);
            await OidcTokens.AddUserInfoClaimsAsync(context.Options, configuration, accessToken, external, context.HttpContext.RequestAborted);
        }

        var decision = PortalSignIn.FromIdentityProvider(context.Principal!, options, logger);
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

    /// <summary>The tokens are saved by now: note when they are due for a refresh, and say so when there will be none.</summary>
    private static Task OnTicketReceived(TicketReceivedContext context)
    {
        var services = context.HttpContext.RequestServices;
        var options = services.GetRequiredService<IOptionsMonitor<OidcSignInOptions>>().CurrentValue;
        var properties = context.Properties!;
        var now = context.Options.TimeProvider!.GetUtcNow();
        OidcTokens.Stamp(properties, now, OidcTokens.Lifetime(null, properties, now), options.RefreshBefore);
        if (properties.GetTokenValue("refresh_token") is null)
        {
            services.GetRequiredService<ILogger<OidcSignInOptions>>().LogWarning(
                "The identity provider issued no refresh token for {User}, so the session ends when its tokens expire at {Expires:u}. "
                + "Ask for offline_access in Auth:Oidc:Scopes, let Auth:Oidc:Prompt be consent, and allow the client refresh tokens at the provider.",
                context.Principal?.Identity?.Name, OidcTokens.ExpiresAt(properties));
        }

        return Task.CompletedTask;
    }

    public static WebApplication MapPortalAuth(this WebApplication app)
    {
        app.MapDevSignIn();
        app.MapAccountEndpoints();
        return app;
    }
}

/// <summary>Bound from <c>Auth:Session</c>.</summary>
internal sealed class SessionOptions
{
    public const string Section = "Auth:Session";

    /// <summary>Open interactive circuits (tabs) one person may hold; each costs server memory.</summary>
    public int MaxCircuitsPerUser { get; set; } = 20;

    /// <summary>
    /// How often open pages' sessions are checked against the database (one query for all of them), so a sign-out
    /// on another replica, an expiry or a role change reaches them. A sign-out on the same replica reaches them at once.
    /// </summary>
    public TimeSpan RevalidateEvery { get; set; } = TimeSpan.FromSeconds(30);
}

using System.Security.Claims;
using System.Text.Encodings.Web;
using DeployPortal.Web.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Auth;

public static class AccessTokenDefaults
{
    public const string Scheme = "PersonalAccessToken";
}

/// <summary>
/// Authenticates <c>Authorization: Bearer dp_…</c> as the token's creator, with the roles recorded on
/// the token. Unknown, revoked and expired tokens fail; challenges and refusals answer with problem details.
/// </summary>
internal sealed class AccessTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AccessTokenService tokens,
    SecurityAudit audit,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var secret = header["Bearer ".Length..].Trim();
        var (token, refusal) = await tokens.CheckAsync(secret, Context.RequestAborted);
        if (refusal is not null)
        {
            if (token is not null)
            {
                // A revoked or expired token still in use is worth a person's attention; random strings are not.
                await audit.RecordAsync(token.OwnerId, token.OwnerName, AuditActions.TokenRefused, $"\"{token.Name}\" ({token.Prefix}…): {refusal}");
            }

            return AuthenticateResult.Fail(refusal);
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(PortalClaims.Subject, token!.OwnerId),
                new Claim(PortalClaims.Name, token.OwnerName),
                new Claim("token_id", token.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                .. token.Roles.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(r => new Claim(PortalClaims.Role, r)),
            ],
            AccessTokenDefaults.Scheme, PortalClaims.Name, PortalClaims.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = failure is null ? "Bearer" : $"Bearer error=\"invalid_token\", error_description=\"{failure}\"";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Authentication required",
                Detail = failure ?? "Send a personal access token: Authorization: Bearer dp_… (create one on your profile page).",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = StatusCodes.Status403Forbidden, Title = "Forbidden", Detail = "Your role does not allow this." },
        });
    }
}

internal static class AccessTokenExtensions
{
    public static IServiceCollection AddAccessTokens(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<AccessTokenOptions, AccessTokenOptionsValidator>().BindConfiguration(AccessTokenOptions.Section);
        services.AddMemoryCache();
        services.AddScoped<AccessTokenService>();
        return services;
    }

    public static AuthenticationBuilder AddAccessTokenScheme(this AuthenticationBuilder builder) =>
        builder.AddScheme<AuthenticationSchemeOptions, AccessTokenHandler>(AccessTokenDefaults.Scheme, null);
}

using System.Net;
using System.Text.RegularExpressions;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Tests.Auth;

public sealed partial class SignInTests : IDisposable
{
    private readonly PortalHost _host = new();

    public void Dispose() => _host.Dispose();

    [Theory]
    [InlineData("/history", "/history")]
    [InlineData("/", "/")]
    [InlineData("//evil.example/steal", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("", "/")]
    [InlineData(null, "/")]
    public void SafeReturnUrl_KeepsOnlySameSitePaths(string? returnUrl, string expected) =>
        Assert.Equal(expected, DevSignInEndpoints.SafeReturnUrl(returnUrl));

    [Fact]
    public async Task Board_WhenSignedOut_RedirectsToSignIn()
    {
        using var client = _host.CreateLoopbackClient();

        var response = await client.GetAsync("/history");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/signin", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task DevSignIn_WithOffSiteReturnUrl_LandsOnTheBoard_AndIssuesTheCookie()
    {
        using var client = _host.CreateLoopbackClient();
        var token = await AntiforgeryTokenAsync(client);

        var response = await client.PostAsync("/account/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user"] = "quinn",
            ["returnUrl"] = "//evil.example/",
            ["__RequestVerificationToken"] = token,
        }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("deployportal.auth="));
        var board = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, board.StatusCode);
        await using var scope = _host.Services.CreateAsyncScope();
        await using var db = await scope.ServiceProvider.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Data.PortalDb>>().CreateDbContextAsync();
        var signIn = Assert.Single(db.AuditEvents, a => a.Action == Web.Audit.AuditActions.SignIn);
        Assert.Equal(("dev:quinn", "Quinn QA"), (signIn.ActorId, signIn.ActorName));
    }

    [Fact]
    public async Task DevSignIn_WithoutAntiforgeryToken_IsRejected()
    {
        using var client = _host.CreateLoopbackClient();

        var response = await client.PostAsync("/account/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = "ada" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("deployportal.auth=")));
    }

    [Fact]
    public async Task DevSignIn_UnknownUser_IsRefused_WithoutACookie()
    {
        using var client = _host.CreateLoopbackClient();
        var token = await AntiforgeryTokenAsync(client);

        var response = await client.PostAsync("/account/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user"] = "mallory",
            ["__RequestVerificationToken"] = token,
        }));

        Assert.Equal("/signin?error=unknown-user", response.Headers.Location!.OriginalString);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("deployportal.auth=")));
    }

    [Fact]
    public async Task JobsDashboard_IsForAdminsOnly()
    {
        using var developer = await SignedInClientAsync("dana");
        using var admin = await SignedInClientAsync("ada");

        var asDeveloper = await developer.GetAsync("/jobs");
        var asAdmin = await admin.GetAsync("/jobs");

        Assert.NotEqual(HttpStatusCode.OK, asDeveloper.StatusCode);
        Assert.Equal(HttpStatusCode.OK, asAdmin.StatusCode);
        Assert.Contains("DeployPortal jobs", await asAdmin.Content.ReadAsStringAsync());
    }

    [Fact]
    public void DevSignIn_InProduction_RefusesToStart()
    {
        using var production = new PortalHost(environment: "Production");

        var error = Assert.ThrowsAny<Exception>(() => production.Start());

        var validation = error as OptionsValidationException ?? error.InnerException as OptionsValidationException;
        Assert.NotNull(validation);
        Assert.Contains("refused in Production", validation.Message);
    }

    private async Task<HttpClient> SignedInClientAsync(string user)
    {
        var client = _host.CreateLoopbackClient();
        var token = await AntiforgeryTokenAsync(client);
        var response = await client.PostAsync("/account/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user"] = user,
            ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    private static async Task<string> AntiforgeryTokenAsync(HttpClient client)
    {
        var page = await client.GetStringAsync("/signin");
        return TokenPattern().Match(page).Groups[1].Value;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}

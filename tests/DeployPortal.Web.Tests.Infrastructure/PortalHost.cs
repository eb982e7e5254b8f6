using System.Net;
using DeployPortal.Web.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// The real portal (its own Program) on Kestrel, bound to a free loopback port, over a database made for
/// the test. Settings go in as host settings so they are visible while Program registers services.
/// </summary>
public sealed class PortalHost : WebApplicationFactory<Program>
{
    private readonly string _dataPath = Directory.CreateTempSubdirectory("deployportal-host-").FullName;
    private readonly Dictionary<string, string?> _settings;
    private readonly string _environment;
    private Uri? _address;

    private readonly Action<IServiceCollection>? _services;

    /// <param name="port">0 for any free one; a fixed port when the address must be known before start (an identity provider's redirect URI).</param>
    /// <param name="services">Replacements for the portal's own services, e.g. a <c>FakeTimeProvider</c>.</param>
    public PortalHost(TestDatabase? database = null, string environment = "Development", IDictionary<string, string?>? settings = null,
        int port = 0, Action<IServiceCollection>? services = null)
    {
        _environment = environment;
        _services = services;
        _settings = new Dictionary<string, string?>
        {
            ["Portal:DataPath"] = _dataPath,
            ["Auth:DevSignIn:Enabled"] = "true",
            ["Database:Provider"] = (database?.Provider ?? DatabaseProvider.Sqlite).ToString(),
            ["Database:ConnectionString"] = database?.ConnectionString,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        UseKestrel(o => o.Listen(IPAddress.Loopback, port));
    }

    /// <summary>
    /// The embedded default as a person runs it (demo apps and repository, the in-process emulator), with pod
    /// phases sped up for tests.
    /// </summary>
    public static PortalHost EmbeddedDefault(TestDatabase database, IDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Apps:Demo"] = "true",
            ["Cluster:Mode"] = "Emulator",
            ["Cluster:Emulator:PodPendingDelay"] = "00:00:00.100",
            ["Cluster:Emulator:ContainerCreatingDelay"] = "00:00:00.100",
            ["Cluster:Emulator:ReadyDelay"] = "00:00:00.300",
            ["Cluster:Emulator:CrashAfter"] = "00:00:00.200",
            ["Cluster:Emulator:BackOffBase"] = "00:00:00.200",
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return new PortalHost(database, settings: settings);
    }

    /// <summary>Starts Kestrel and returns the address the browser should use.</summary>
    public Uri Start()
    {
        if (_address is not null)
        {
            return _address;
        }

        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return _address = new Uri(address);
    }

    /// <summary>A free loopback port, for a portal whose address must be known before it starts.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A loopback client that calls the REST API as a CI job does: with a day-long personal access token of <paramref name="user"/>.</summary>
    public async Task<HttpClient> TokenClientAsync(System.Security.Claims.ClaimsPrincipal user)
    {
        await using var scope = Services.CreateAsyncScope();
        var created = await scope.ServiceProvider.GetRequiredService<Web.Auth.AccessTokenService>()
            .CreateAsync(user, new Web.Auth.CreateAccessTokenRequest("ci", TimeSpan.FromDays(1)));
        Assert.True(created.Succeeded, created.Failure?.Message);
        var client = CreateLoopbackClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", created.Value!.Secret);
        return client;
    }

    /// <summary>An HTTP client for the running Kestrel server (cookies kept, redirects not followed).</summary>
    public HttpClient CreateLoopbackClient()
    {
        var address = Start();
        return new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() }) { BaseAddress = address };
    }

    /// <summary>An HTTP client signed in through the development sign-in as <paramref name="user"/>, as a browser would be.</summary>
    public async Task<HttpClient> DevSignedInClientAsync(string user)
    {
        var client = CreateLoopbackClient();
        var page = await client.GetStringAsync("/signin");
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var response = await client.PostAsync("/account/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user"] = user,
            ["__RequestVerificationToken"] = token,
        }));
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"The development sign-in as {user} answered {(int)response.StatusCode}.");
        }

        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        // Outside Development the portal serves its assets from published output, which a test run does not have;
        // the build's static-web-assets manifest serves the same files.
        builder.UseStaticWebAssets();
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }

        foreach (var (key, value) in _settings)
        {
            if (value is not null)
            {
                builder.UseSetting(key, value);
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dataPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

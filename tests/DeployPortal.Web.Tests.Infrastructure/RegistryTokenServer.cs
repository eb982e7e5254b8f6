using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// The token service of the distribution spec's token auth, as Docker Hub, GHCR or Harbor run one: <c>GET /token?service=…
/// &amp;scope=repository:NAME:pull</c> with Basic credentials answers a JWT (RS256, the signing certificate in <c>x5c</c>)
/// that the real registry checks against the certificate bundle it is given (<see cref="CertificatePem"/>).
/// </summary>
public sealed class RegistryTokenServer : IAsyncDisposable
{
    public const string Issuer = "deployportal-test-issuer";
    public const string Service = "deployportal-test-registry";
    private readonly WebApplication _app;
    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _certificate;
    private readonly string _user;
    private readonly string _password;
    private int _issued;

    private RegistryTokenServer(WebApplication app, string user, string password)
    {
        _app = app;
        (_user, _password) = (user, password);
        var request = new CertificateRequest("CN=deployportal-test-token-signer", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    public Uri Realm { get; private set; } = default!;

    public string CertificatePem => _certificate.ExportCertificatePem();

    /// <summary>Tokens handed out to callers that sent the right credentials.</summary>
    public int Issued => Volatile.Read(ref _issued);

    public static async Task<RegistryTokenServer> StartAsync(string user, string password)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new RegistryTokenServer(app, user, password);
        app.MapGet("/token", server.Answer);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Realm = new Uri(new Uri(address), "/token");
        return server;
    }

    /// <summary>A token for <paramref name="scope"/> without asking over HTTP (the tests' own pushes).</summary>
    public string Mint(string scope)
    {
        var parts = scope.Split(':');
        var header = new Dictionary<string, object> { ["typ"] = "JWT", ["alg"] = "RS256", ["x5c"] = new[] { Convert.ToBase64String(_certificate.RawData) } };
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = _user,
            ["aud"] = Service,
            ["exp"] = now + 300,
            ["nbf"] = now - 10,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = parts.Length == 3 ? new[] { new { type = parts[0], name = parts[1], actions = parts[2].Split(',') } } : Array.Empty<object>(),
        };
        var signed = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        return signed + "." + Base64Url(_key.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    private IResult Answer(HttpContext context)
    {
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_user}:{_password}"));
        if (context.Request.Headers.Authorization.ToString() != expected)
        {
            return Results.Unauthorized();
        }

        Interlocked.Increment(ref _issued);
        var scope = context.Request.Query["scope"].ToString();
        return Results.Json(new { token = Mint(scope), expires_in = 300 });
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _certificate.Dispose();
        _key.Dispose();
    }
}

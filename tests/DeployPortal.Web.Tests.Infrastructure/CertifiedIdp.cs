using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>What the provider counted so far (its own events, read over HTTP).</summary>
public sealed record IdpCounters(int RefreshGrants, int RefreshErrors, int CodeGrants, int EndSessions, int RevokedGrants, int Userinfo);

/// <summary>
/// A certified OpenID Connect provider (panva's oidc-provider, run by node from tests/idp/server.mjs) on loopback,
/// configured strictly: refresh tokens only with prompt=consent, 2-minute tokens, refresh-token rotation with reuse
/// detection, and optionally name and groups only from userinfo. Its own login page takes any password; the login
/// is the user id. The portal registers through dynamic client registration, as with a real provider's admin.
/// </summary>
public sealed class CertifiedIdp : IAsyncLifetime
{
    private readonly bool _claimsInIdToken;
    private readonly string _host;
    private readonly string _config = Path.Combine(Path.GetTempPath(), $"deployportal-idp-{Guid.NewGuid():N}.json");
    private readonly HttpClient _http = new();
    private Process? _node;

    public CertifiedIdp() : this(claimsInIdToken: true)
    {
    }

    /// <param name="host">The name in its issuer: "localhost" puts it on the same site as a portal at http://localhost.</param>
    internal CertifiedIdp(bool claimsInIdToken, string host = "127.0.0.1") => (_claimsInIdToken, _host) = (claimsInIdToken, host);

    public static readonly IReadOnlyDictionary<string, (string Name, string[] Groups)> InitialUsers = new Dictionary<string, (string, string[])>
    {
        ["val"] = ("Val Viewer", ["staff"]),
        ["dana"] = ("Dana Developer", ["staff", "developers"]),
        ["quinn"] = ("Quinn QA", ["staff", "qa-team"]),
        ["ada"] = ("Ada Admin", ["staff", "portal-admins"]),
        // Changed by single tests only, so that other tests never see the changes.
        ["riley"] = ("Riley Refresh", ["staff", "qa-team"]),
        ["lou"] = ("Lou Logout", ["staff", "developers"]),
        ["tess"] = ("Tess Tabs", ["staff", "developers"]),
        ["rory"] = ("Rory Role", ["staff", "portal-admins"]),
    };

    public Uri Authority { get; private set; } = default!;

    public TimeSpan TokenLifetime { get; } = TimeSpan.FromMinutes(2);

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_config, JsonSerializer.Serialize(new
        {
            port = 0,
            host = _host,
            claimsInIdToken = _claimsInIdToken,
            accessTokenSeconds = (int)TokenLifetime.TotalSeconds,
            users = InitialUsers.ToDictionary(u => u.Key, u => new { name = u.Value.Name, groups = u.Value.Groups }),
        }));
        var start = new ProcessStartInfo("node", [Path.Combine(Folder(), "server.mjs"), _config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        _node.ErrorDataReceived += (_, _) => { }; // its warnings about development keys are expected
        _node.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await _node.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("listening ", StringComparison.Ordinal))
            {
                Authority = new Uri(line["listening ".Length..]);
                return;
            }
        }

        throw new InvalidOperationException($"The identity provider exited ({_node.ExitCode}) before listening.");
    }

    public async Task DisposeAsync()
    {
        if (_node is { HasExited: false })
        {
            _node.Kill(entireProcessTree: true);
            await _node.WaitForExitAsync();
        }

        _node?.Dispose();
        _http.Dispose();
        File.Delete(_config);
    }

    /// <summary>Registers a portal at <paramref name="portal"/> (RFC 7591), returning its client id and secret.</summary>
    public async Task<(string ClientId, string ClientSecret)> RegisterClientAsync(Uri portal)
    {
        using var response = await _http.PostAsJsonAsync(new Uri(Authority, "/reg"), new
        {
            client_name = "DeployPortal under test",
            redirect_uris = new[] { new Uri(portal, "/signin-oidc").ToString() },
            post_logout_redirect_uris = new[] { new Uri(portal, "/signout-callback-oidc").ToString() },
            grant_types = new[] { "authorization_code", "refresh_token" },
            response_types = new[] { "code" },
            token_endpoint_auth_method = "client_secret_post",
        });
        response.EnsureSuccessStatusCode();
        var client = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return ((string)client["client_id"]!, (string)client["client_secret"]!);
    }

    /// <summary>Portal settings for signing in through this provider; the client is registered once the portal has an address.</summary>
    public Dictionary<string, string?> PortalSettings(string unmappedUsers = "Viewer") => new()
    {
        ["Auth:DevSignIn:Enabled"] = "false",
        ["Auth:Oidc:Enabled"] = "true",
        ["Auth:Oidc:DisplayName"] = "Test IdP",
        ["Auth:Oidc:Authority"] = Authority.ToString(),
        ["Auth:Oidc:RequireHttpsMetadata"] = "false",
        ["Auth:Oidc:Scopes"] = "openid profile offline_access groups",
        ["Auth:Oidc:RoleClaim"] = "groups",
        ["Auth:Oidc:RoleMap:developers"] = "Developer",
        ["Auth:Oidc:RoleMap:qa-team"] = "QA",
        ["Auth:Oidc:RoleMap:portal-admins"] = "Admin",
        ["Auth:Oidc:UnmappedUsers"] = unmappedUsers,
    };

    public async Task SetUserAsync(string id, string[]? groups = null, bool? disabled = null)
    {
        var change = new JsonObject();
        if (groups is not null)
        {
            change["groups"] = new JsonArray([.. groups.Select(g => JsonValue.Create(g))]);
        }

        if (disabled is not null)
        {
            change["disabled"] = disabled;
        }

        using var response = await _http.PostAsJsonAsync(new Uri(Authority, $"/test/users/{Uri.EscapeDataString(id)}"), change);
        response.EnsureSuccessStatusCode();
    }

    public async Task<IdpCounters> CountersAsync() =>
        (await _http.GetFromJsonAsync<IdpCounters>(new Uri(Authority, "/test/counters"), new JsonSerializerOptions(JsonSerializerDefaults.Web)))!;

    /// <summary>tests/idp, as tests/run.sh installed it (DEPLOYPORTAL_IDP_DIR), or found above the test assembly.</summary>
    private static string Folder()
    {
        if (Environment.GetEnvironmentVariable("DEPLOYPORTAL_IDP_DIR") is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "idp");
            if (File.Exists(Path.Combine(candidate, "server.mjs")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("tests/idp not found; run the tests through tests/run.sh, which installs it.");
    }
}

/// <summary>The same provider with name and groups only in userinfo, never in the ID token.</summary>
public sealed class UserInfoOnlyIdp() : IAsyncLifetime
{
    public CertifiedIdp Idp { get; } = new(claimsInIdToken: false);

    public Task InitializeAsync() => Idp.InitializeAsync();

    public Task DisposeAsync() => Idp.DisposeAsync();
}

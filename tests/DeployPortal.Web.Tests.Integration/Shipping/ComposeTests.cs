using System.Text.Json.Nodes;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Tests.Shipping;

/// <summary>
/// docker-compose.yml, read as Compose reads it (there is no Docker engine on the build machines): services,
/// ports, health checks, start order, volumes, the kubeconfig hand-over from k3s, the Keycloak realm, and the
/// portal's settings passed through the portal's own start-up validation.
/// </summary>
public sealed class ComposeTests
{
    private static readonly Dictionary<object, object> Compose = Yaml.Load(ShippingFiles.Read("docker-compose.yml"));
    private static Dictionary<object, object> Services => Compose.Map("services");
    private static Dictionary<object, object> Service(string name) => Services.Map(name);

    [Fact]
    public void Stack_HasThePortalPostgresKeycloakK3sAndARegistry_AndTheEmulatorPortalOnlyUnderItsProfile()
    {
        Assert.Equal(new[] { "k3s", "keycloak", "portal", "portal-emulator", "postgres", "registry", "registry-seed" }, Services.Keys.Cast<string>().Order());
        foreach (var name in new[] { "portal", "postgres", "keycloak", "k3s", "registry", "registry-seed" })
        {
            Assert.False(Service(name).ContainsKey("profiles"), $"{name} must start with a plain `docker compose up`.");
        }

        Assert.Equal(new[] { "emulator" }, Service("portal-emulator").List("profiles").Strings());
        Assert.Equal("src/DeployPortal.Web/Dockerfile", Service("portal").Map("build").Str("dockerfile"));
        Assert.Equal(".", Service("portal").Map("build").Str("context"));
        Assert.True(File.Exists(ShippingFiles.PathOf(Service("portal").Map("build").Str("dockerfile")!)));
    }

    [Fact]
    public void EveryPublishedPort_IsBoundToLoopback_AndThePortalsToTheImagesPort()
    {
        foreach (var (name, service) in Services.Select(p => ((string)p.Key, (Dictionary<object, object>)p.Value)))
        {
            foreach (var port in service.ListOrEmpty("ports").Strings())
            {
                Assert.Matches(@"^127\.0\.0\.1:\d+:\d+$", port);
            }
        }

        Assert.Equal(new[] { "127.0.0.1:5080:8080" }, Service("portal").List("ports").Strings());
        Assert.Equal(new[] { "127.0.0.1:5081:8080" }, Service("portal-emulator").List("ports").Strings());
        Assert.False(Service("postgres").ContainsKey("ports"), "The database needs no port on the host.");
    }

    [Theory]
    [InlineData("portal", "readyz")]
    [InlineData("portal-emulator", "readyz")]
    [InlineData("postgres", "pg_isready")]
    [InlineData("keycloak", "/health/ready")]
    [InlineData("k3s", "/readyz")]
    [InlineData("registry", "/v2/")]
    public void EveryService_HasAHealthCheck(string name, string probe)
    {
        var check = Service(name).Map("healthcheck");
        Assert.Contains(probe, string.Join(' ', check.List("test").Strings()));
        Assert.NotNull(check.Str("interval"));
        Assert.NotNull(check.Str("retries"));
    }

    [Theory]
    [InlineData("portal", new[] { "k3s", "keycloak", "postgres", "registry" })]
    [InlineData("portal-emulator", new[] { "keycloak", "postgres", "registry" })]
    [InlineData("registry-seed", new[] { "registry" })]
    public void ThePortal_StartsOnlyOnceWhatItNeedsIsHealthy(string portal, string[] needs)
    {
        var dependsOn = Service(portal).Map("depends_on");
        Assert.Equal(needs, dependsOn.Keys.Cast<string>().Order());
        Assert.All(needs, n => Assert.Equal("service_healthy", dependsOn.Map(n).Str("condition")));
    }

    [Fact]
    public void DurableData_IsInNamedVolumes()
    {
        var volumes = Compose.Map("volumes").Keys.Cast<string>().ToHashSet();
        Assert.Contains("postgres-data:/var/lib/postgresql/data", Service("postgres").List("volumes").Strings());
        Assert.Contains("k3s-data:/var/lib/rancher/k3s", Service("k3s").List("volumes").Strings());

        // The portal's data folder (the image's VOLUME) is a named volume too.
        var dataPath = DockerfileTests.Image.Env["Portal__DataPath"];
        Assert.Contains($"portal-data:{dataPath}", Service("portal").List("volumes").Strings());
        Assert.Contains($"portal-emulator-data:{dataPath}", Service("portal-emulator").List("volumes").Strings());

        foreach (var service in Services.Values.Cast<Dictionary<object, object>>())
        {
            foreach (var mount in service.ListOrEmpty("volumes").Strings())
            {
                var source = mount.Split(':')[0];
                if (source.StartsWith("./", StringComparison.Ordinal))
                {
                    Assert.True(File.Exists(ShippingFiles.PathOf(source[2..])), $"{source} is mounted but does not exist.");
                    Assert.StartsWith("./src/compose/", source);
                }
                else
                {
                    Assert.Contains(source, volumes);
                }
            }
        }
    }

    [Fact]
    public void ThePortal_ReadsTheKubeconfigK3sWrites_AndReachesK3sByANameOnItsCertificate()
    {
        var k3s = Service("k3s");
        var portal = Service("portal").Environment();
        var output = k3s.Environment()["K3S_KUBECONFIG_OUTPUT"];
        Assert.True(int.Parse(k3s.Environment()["K3S_KUBECONFIG_MODE"], System.Globalization.NumberStyles.None) % 10 >= 4,
            "The portal runs as an unprivileged user: the kubeconfig must be readable by others.");

        // Same volume, k3s writes into it, the portal only reads it, and the file names agree.
        var written = MountOf(k3s, Path.GetDirectoryName(output)!);
        var read = MountOf(Service("portal"), Path.GetDirectoryName(portal["Cluster__KubeconfigPath"])!);
        Assert.Equal(written.Volume, read.Volume);
        Assert.False(written.ReadOnly);
        Assert.True(read.ReadOnly);
        Assert.Equal(Path.GetFileName(output), Path.GetFileName(portal["Cluster__KubeconfigPath"]));

        // k3s writes https://127.0.0.1:6443, useless from the portal's container: the portal overrides the server
        // with the k3s service's name, which --tls-san puts on the API server's certificate.
        Assert.Equal("Kubeconfig", portal["Cluster__Mode"]);
        var server = new Uri(portal["Cluster__Server"]);
        Assert.Equal(("https", "k3s", 6443), (server.Scheme, server.Host, server.Port));
        var command = k3s.List("command").Strings().ToList();
        Assert.Equal("server", command[0]);
        Assert.Equal(server.Host, command[command.IndexOf("--tls-san") + 1]);
        Assert.True(Services.ContainsKey(server.Host));
        Assert.True(k3s.TryGetValue("privileged", out var privileged) && privileged as string == "true");
    }

    [Fact]
    public void ClusterServer_ReplacesTheKubeconfigsServer_AndKeepsItsCertificateAuthority()
    {
        // What k3s writes (server on loopback, its own CA), read the way the portal reads it.
        var folder = Directory.CreateTempSubdirectory("deployportal-kubeconfig-").FullName;
        try
        {
            var path = Path.Combine(folder, "kubeconfig.yaml");
            File.WriteAllText(path, $$"""
                apiVersion: v1
                kind: Config
                clusters:
                - name: default
                  cluster:
                    server: https://127.0.0.1:6443
                    certificate-authority-data: {{SelfSignedCaBase64()}}
                contexts:
                - name: default
                  context:
                    cluster: default
                    user: default
                current-context: default
                users:
                - name: default
                  user:
                    token: k3s-admin-token
                """);
            var environment = new Dictionary<string, string>(Service("portal").Environment()) { ["Cluster__KubeconfigPath"] = path };
            using var settings = PortalSettings.Start(environment);

            var client = (k8s.Kubernetes)settings.Services.GetRequiredService<k8s.IKubernetes>();

            Assert.Equal(new Uri("https://k3s:6443/"), client.BaseUri);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("portal")]
    [InlineData("portal-emulator")]
    public void ThePortalsSettings_PassThePortalsOwnStartUpValidation(string name)
    {
        var environment = Service(name).Environment();

        using var settings = PortalSettings.Start(environment);

        Assert.Equal(DatabaseProvider.Postgres, settings.Get<DatabaseOptions>().Provider);
        Assert.True(settings.Get<OidcSignInOptions>().Enabled);
        Assert.Equal(name == "portal" ? ClusterMode.Kubeconfig : ClusterMode.Emulator, settings.Get<ClusterOptions>().Mode);
        var oidc = settings.Services.GetRequiredService<IOptionsMonitor<OpenIdConnectOptions>>().Get(AuthExtensions.OidcScheme);
        oidc.Validate(AuthExtensions.OidcScheme); // what the handler checks at the first sign-in
        Assert.Contains(settings.Get<Apps.AppsOptions>().Items, a => a.Name == "hello");
    }

    [Fact]
    public void TheSettingsCheck_CanFail_WhenARequiredSettingIsMissing()
    {
        var environment = Service("portal").Environment();
        environment.Remove("Database__ConnectionString");

        var error = Assert.ThrowsAny<Exception>(() => PortalSettings.Start(environment).Dispose());
        Assert.Contains("Database:ConnectionString", error.ToString());
    }

    [Fact]
    public void ThePortal_UsesTheComposeDatabase()
    {
        var postgres = Service("postgres").Environment();
        foreach (var portal in new[] { "portal", "portal-emulator" })
        {
            var cs = new Npgsql.NpgsqlConnectionStringBuilder(Service(portal).Environment()["Database__ConnectionString"]);
            Assert.Equal("postgres", cs.Host);
            Assert.Equal((postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"]), (cs.Username, cs.Password));
            if (portal == "portal")
            {
                Assert.Equal(postgres["POSTGRES_DB"], cs.Database);
            }
            else
            {
                // Its own database, so emulated deployments never mix with k3s ones; created by the init script.
                Assert.Contains($"CREATE DATABASE {cs.Database} ", ShippingFiles.Read("src/compose/postgres/init.sql"));
            }
        }
    }

    [Fact]
    public void Keycloak_ImportsTheRealm_AndThePortalTrustsItsBrowserFacingIssuer()
    {
        var keycloak = Service("keycloak");
        var portal = Service("portal").Environment();
        Assert.Contains("--import-realm", keycloak.List("command").Strings());
        var realmMount = keycloak.List("volumes").Strings().Single(v => v.Contains("/opt/keycloak/data/import/", StringComparison.Ordinal));
        Assert.Equal("./src/compose/keycloak/deployportal-realm.json", realmMount.Split(':')[0]);
        var realm = Realm["realm"]!.GetValue<string>();

        // Tokens carry KC_HOSTNAME's issuer: that is the Authority. Discovery comes over the back channel,
        // from the keycloak service's container port.
        var frontend = keycloak.Environment()["KC_HOSTNAME"];
        Assert.Equal("true", keycloak.Environment()["KC_HOSTNAME_BACKCHANNEL_DYNAMIC"]);
        Assert.Equal($"{frontend}/realms/{realm}", portal["Auth__Oidc__Authority"]);
        Assert.Equal($"http://keycloak:8080/realms/{realm}/.well-known/openid-configuration", portal["Auth__Oidc__MetadataAddress"]);
        Assert.Contains($"127.0.0.1:{new Uri(frontend).Port}:8080", keycloak.List("ports").Strings());
        Assert.Equal(frontend, $"http://localhost:{new Uri(frontend).Port}");
    }

    private static JsonObject Realm => JsonNode.Parse(ShippingFiles.Read("src/compose/keycloak/deployportal-realm.json"))!.AsObject();

    [Fact]
    public void Realm_Client_UsesCodeFlowWithPkce_AndRedirectsToThePortalsCallbacks()
    {
        var client = Realm["clients"]!.AsArray().Single(c => c!["clientId"]!.GetValue<string>() == Service("portal").Environment()["Auth__Oidc__ClientId"])!;
        Assert.True(client["standardFlowEnabled"]!.GetValue<bool>());
        Assert.False(client["implicitFlowEnabled"]!.GetValue<bool>());
        Assert.False(client["directAccessGrantsEnabled"]!.GetValue<bool>());
        Assert.False(client["publicClient"]!.GetValue<bool>());
        Assert.Equal("S256", client["attributes"]!["pkce.code.challenge.method"]!.GetValue<string>());

        foreach (var name in new[] { "portal", "portal-emulator" })
        {
            var environment = Service(name).Environment();
            Assert.Equal(client["secret"]!.GetValue<string>(), environment["Auth__Oidc__ClientSecret"]);
            using var settings = PortalSettings.Start(environment);
            var oidc = settings.Services.GetRequiredService<IOptionsMonitor<OpenIdConnectOptions>>().Get(AuthExtensions.OidcScheme);
            var hostPort = Service(name).List("ports").Strings().Single().Split(':')[1];
            var origin = $"http://localhost:{hostPort}";

            Assert.Contains($"{origin}{oidc.CallbackPath}", client["redirectUris"]!.AsArray().Select(u => u!.GetValue<string>()));
            Assert.Contains($"{origin}{oidc.SignedOutCallbackPath}", client["attributes"]!["post.logout.redirect.uris"]!.GetValue<string>().Split("##"));
        }
    }

    [Fact]
    public void Realm_HasAGroupPerPortalRole_DemoUsersInThem_AndPutsGroupsIntoTheIdToken()
    {
        var environment = Service("portal").Environment();
        using var settings = PortalSettings.Start(environment);
        var options = settings.Get<OidcSignInOptions>();
        var groups = Realm["groups"]!.AsArray().Select(g => g!["name"]!.GetValue<string>()).ToList();

        // Each group is a portal role by name or through Auth:Oidc:RoleMap, and every role has a group.
        var roles = groups.Select(g => options.RoleMap.TryGetValue(g, out var mapped) ? mapped : g).ToList();
        Assert.Equal(PortalRoles.All.Order(), roles.Order(StringComparer.Ordinal));

        var users = Realm["users"]!.AsArray().Select(u => u!.AsObject()).ToList();
        foreach (var role in PortalRoles.All)
        {
            Assert.Contains(users, u => u["groups"]!.AsArray().Any(g => roles[groups.IndexOf(g!.GetValue<string>().TrimStart('/'))] == role));
        }

        foreach (var user in users)
        {
            Assert.All(user["groups"]!.AsArray(), g => Assert.Contains(g!.GetValue<string>().TrimStart('/'), groups));
            Assert.True(user["enabled"]!.GetValue<bool>());
            Assert.NotEmpty(user["credentials"]!.AsArray());
            Assert.False(user["credentials"]![0]!["temporary"]!.GetValue<bool>(), "A demo user must not be asked to change the password first.");
            Assert.NotNull(user["firstName"]); // else Keycloak asks for a profile update at the first sign-in
        }

        var client = Realm["clients"]!.AsArray().Single(c => c!["clientId"]!.GetValue<string>() == options.ClientId)!;
        var mapper = client["protocolMappers"]!.AsArray().Single(m => m!["protocolMapper"]!.GetValue<string>() == "oidc-group-membership-mapper")!;
        Assert.Equal(options.RoleClaim, mapper["config"]!["claim.name"]!.GetValue<string>());
        Assert.Equal("true", mapper["config"]!["id.token.claim"]!.GetValue<string>()); // the portal maps roles from the ID token
        Assert.Equal("false", mapper["config"]!["full.path"]!.GetValue<string>()); // "QA", not "/QA"
    }

    [Fact]
    public void TheRegistry_IsTheCncfDistributionRegistry_AndThePortalK3sAndTheEmulatorPullFromIt()
    {
        var registry = Service("registry");
        Assert.Equal("registry:2", registry.Str("image"));
        var config = Yaml.Load(ShippingFiles.Read("src/compose/registry/config.yml"));
        Assert.Contains("./src/compose/registry/config.yml:/etc/docker/registry/config.yml:ro", registry.List("volumes").Strings());
        Assert.Contains($"registry-data:{config.Map("storage").Map("filesystem").Str("rootdirectory")}", registry.List("volumes").Strings());
        var port = config.Map("http").Str("addr")!.Split(':')[^1];
        Assert.Contains($"127.0.0.1:{port}:{port}", registry.List("ports").Strings());
        var host = $"registry:{port}";

        // The portal asks it (plain HTTP inside the compose network), and one app's images are built there.
        var portal = Service("portal").Environment();
        Assert.Equal(host, portal["Registry__Registries__0__Host"]);
        Assert.Equal("true", portal["Registry__Registries__0__PlainHttp"]);
        Assert.StartsWith(host + "/", portal["Apps__Items__1__ImageRepository"]);
        using (var settings = PortalSettings.Start(portal))
        {
            var options = settings.Get<Web.Registry.RegistryOptions>();
            Assert.NotNull(options.For(host));
            Assert.Equal(portal["Registry__EventsToken"], options.EventsToken);
        }

        // k3s's containerd pulls registry:5000/… over HTTP; the emulator profile's kubelet pulls from it too.
        Assert.Contains("./src/compose/k3s/registries.yaml:/etc/rancher/k3s/registries.yaml:ro", Service("k3s").List("volumes").Strings());
        var mirror = Yaml.Load(ShippingFiles.Read("src/compose/k3s/registries.yaml")).Map("mirrors").Map(host);
        Assert.Equal(new[] { $"http://{host}" }, mirror.List("endpoint").Strings());
        var emulator = Service("portal-emulator").Environment();
        Assert.Equal(host, emulator["Cluster__Emulator__Registry__Host"]);
        using (var settings = PortalSettings.Start(emulator))
        {
            Assert.Equal(host, settings.Get<ClusterOptions>().Emulator.Registry?.Host);
        }
    }

    [Fact]
    public void TheRegistry_TellsThePortalAboutPushes_WithThePortalsSharedSecret()
    {
        var endpoint = Yaml.Load(ShippingFiles.Read("src/compose/registry/config.yml")).Map("notifications").List("endpoints").Maps().Single();
        var portal = Service("portal").Environment();
        var url = new Uri(endpoint.Str("url")!);

        Assert.Equal(("portal", 8080, "/api/v1/registry/events"), (url.Host, url.Port, url.AbsolutePath));
        Assert.True(Services.ContainsKey(url.Host));
        Assert.Equal(new[] { "Bearer " + portal["Registry__EventsToken"] }, endpoint.Map("headers").List("Authorization").Strings());
    }

    [Fact]
    public void TheSeed_PushesTheWhoamiAppsBuiltBranches_AndLeavesOneUnbuilt()
    {
        var seed = Service("registry-seed");
        var script = string.Join('\n', seed.List("command").Strings());
        var repository = Service("portal").Environment()["Apps__Items__1__ImageRepository"];

        Assert.Equal("no", seed.Str("restart"));
        Assert.Contains($"docker://{repository}:$$tag", script);
        Assert.Contains("for tag in main feature-login;", script); // feature/payment stays "not built yet" for the demo
        Assert.Equal("{branchSlug}", Service("portal").Environment()["Apps__Items__1__TagTemplate"]);
    }

    private static string SelfSignedCaBase64()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=k3s-server-ca", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(ca.ExportCertificatePem()));
    }

    private static (string Volume, bool ReadOnly) MountOf(Dictionary<object, object> service, string containerPath)
    {
        var mount = service.List("volumes").Strings().Select(v => v.Split(':')).Single(parts => parts[1] == containerPath);
        return (mount[0], mount.Length > 2 && mount[2] == "ro");
    }
}

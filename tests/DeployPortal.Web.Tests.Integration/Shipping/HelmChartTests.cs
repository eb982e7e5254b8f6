using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.GitOps;
using DeployPortal.Web.Health;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Shipping;

/// <summary>
/// src/chart/deployportal rendered by the real helm (<c>helm template</c>, <c>helm lint</c>) and checked as the
/// cluster would receive it: replicas, probes, sticky sessions, disruption budget, the settings the portal
/// needs, and least-privilege RBAC (which a chart with a wildcard, a Secrets watch or a ClusterRole fails).
/// </summary>
public sealed class HelmChartTests
{
    private static readonly string Chart = ShippingFiles.PathOf("src/chart/deployportal");

    // Values a real install must give (the chart refuses to render without them).
    private static readonly string[] Required =
    [
        "--set", "secretConfig.Database__ConnectionString=Host=postgres;Database=deployportal;Username=portal;Password=pw",
        "--set", "secretConfig.Auth__Oidc__ClientSecret=client-secret",
    ];

    private static Task<List<Dictionary<object, object>>> RenderAsync(params string[] more) => Helm.TemplateAsync(Chart, [.. Required, .. more]);

    private static Dictionary<object, object> Single(List<Dictionary<object, object>> manifests, string kind) => Assert.Single(manifests, m => m.Str("kind") == kind);

    [Fact]
    public async Task Chart_PassesHelmLint()
    {
        var (code, output, errors) = await Helm.RunAsync(["lint", Chart, .. Required]);
        Assert.True(code == 0, output + errors);
    }

    [Fact]
    public async Task Chart_WithoutTheSecretSettings_RefusesToRender()
    {
        var (code, _, errors) = await Helm.RunAsync("template", "portal", Chart);
        Assert.NotEqual(0, code);
        Assert.Contains("is required", errors);
    }

    [Fact]
    public async Task Deployment_RunsTwoReplicas_NonRoot_WithProbesOnThePortalsHealthEndpoints()
    {
        var manifests = await RenderAsync();
        var deployment = Single(manifests, "Deployment");
        var spec = deployment.Map("spec");
        Assert.True(int.Parse(spec.Str("replicas")!) >= 2);
        Assert.Equal("0", spec.Map("strategy").Map("rollingUpdate").Str("maxUnavailable"));

        var pod = spec.Map("template").Map("spec");
        Assert.Equal("true", pod.Map("securityContext").Str("runAsNonRoot"));
        Assert.Equal(DockerfileTests.Image.Final.Instructions.Last(i => i.Keyword == "USER").Args.Split(':')[0], pod.Map("securityContext").Str("runAsUser"));
        var container = Assert.Single(pod.List("containers").Maps());
        Assert.Equal(DockerfileTests.Image.Env["ASPNETCORE_HTTP_PORTS"], container.List("ports").Maps().Single().Str("containerPort"));
        Assert.Equal(HealthExtensions.LivenessPath, container.Map("livenessProbe").Map("httpGet").Str("path"));
        Assert.Equal(HealthExtensions.ReadinessPath, container.Map("readinessProbe").Map("httpGet").Str("path"));
        Assert.Equal("false", container.Map("securityContext").Str("allowPrivilegeEscalation"));
        Assert.Equal("true", container.Map("securityContext").Str("readOnlyRootFilesystem"));
        // A read-only root needs somewhere to write: the image's data folder and /tmp.
        var mounts = container.List("volumeMounts").Maps().Select(m => m.Str("mountPath")).ToList();
        Assert.Contains(DockerfileTests.Image.Env["Portal__DataPath"], mounts);
        Assert.Contains("/tmp", mounts);

        var account = Single(manifests, "ServiceAccount").Map("metadata").Str("name");
        Assert.Equal(account, pod.Str("serviceAccountName"));
    }

    [Fact]
    public async Task Ingress_HasStickySessions_ForBlazorCircuits_AndServiceAndBudgetSelectThePods()
    {
        var manifests = await RenderAsync();
        var annotations = Single(manifests, "Ingress").Map("metadata").Map("annotations");
        Assert.Equal("cookie", annotations.Str("nginx.ingress.kubernetes.io/affinity"));
        Assert.Equal("persistent", annotations.Str("nginx.ingress.kubernetes.io/affinity-mode"));
        Assert.NotNull(annotations.Str("nginx.ingress.kubernetes.io/session-cookie-name"));
        Assert.True(int.Parse(annotations.Str("nginx.ingress.kubernetes.io/proxy-read-timeout")!) >= 3600, "Circuits are long-lived WebSockets.");

        var podLabels = Single(manifests, "Deployment").Map("spec").Map("template").Map("metadata").Map("labels");
        bool Selects(Dictionary<object, object> selector) => selector.All(p => podLabels.TryGetValue(p.Key, out var v) && Equals(v, p.Value));
        Assert.True(Selects(Single(manifests, "Service").Map("spec").Map("selector")));
        var budget = Single(manifests, "PodDisruptionBudget").Map("spec");
        Assert.True(Selects(budget.Map("selector").Map("matchLabels")));
        Assert.True(int.Parse(budget.Str("minAvailable")!) >= 1);
    }

    [Fact]
    public async Task Settings_FromConfigMapAndSecret_PassThePortalsOwnStartUpValidation()
    {
        var manifests = await RenderAsync();
        var pod = Single(manifests, "Deployment").Map("spec").Map("template").Map("spec");
        var sources = Assert.Single(pod.List("containers").Maps()).List("envFrom").Maps().ToList();
        var configMap = Single(manifests, "ConfigMap");
        var secret = Single(manifests, "Secret");
        Assert.Equal(configMap.Map("metadata").Str("name"), sources.Single(s => s.ContainsKey("configMapRef")).Map("configMapRef").Str("name"));
        Assert.Equal(secret.Map("metadata").Str("name"), sources.Single(s => s.ContainsKey("secretRef")).Map("secretRef").Str("name"));

        var environment = configMap.Map("data").Concat(secret.Map("stringData")).ToDictionary(p => (string)p.Key, p => (string)p.Value);
        using var settings = PortalSettings.Start(environment);

        Assert.Equal(DatabaseProvider.Postgres, settings.Get<DatabaseOptions>().Provider); // several replicas need PostgreSQL
        Assert.Equal(ClusterMode.InCluster, settings.Get<ClusterOptions>().Mode);
        Assert.False(settings.Get<ClusterOptions>().CreateNamespaces); // a cluster-scoped write the Roles do not grant
        Assert.Equal(["qa-1", "qa-2", "qa-3", "qa-4"], settings.Get<ClusterOptions>().AllowedNamespaces); // slots only where the Roles are
        Assert.Equal("deployportal", settings.Get<ClusterOptions>().PortalNamespace);
        Assert.Equal("true", environment["ASPNETCORE_FORWARDEDHEADERS_ENABLED"]); // TLS ends at the ingress
    }

    [Fact]
    public async Task Rbac_GrantsExactlyWhatThePortalDoes_InEachSlotNamespace_AndNothingElse()
    {
        var manifests = await RenderAsync("--set", "slotNamespaces={team-a,team-b,perf}");

        Assert.Empty(Rbac.Violations(manifests, ["team-a", "team-b", "perf"], "deployportal"));
        Assert.Equal(3, manifests.Count(m => m.Str("kind") == "Role"));
        Assert.DoesNotContain(manifests, m => m.Str("kind") == "Namespace"); // not unless asked for
    }

    [Fact]
    public async Task Rbac_DefaultValues_AreLeastPrivilegeToo_AndNamespacesAreCreatedOnlyWhenAskedFor()
    {
        var manifests = await RenderAsync("--set", "createSlotNamespaces=true");

        Assert.Empty(Rbac.Violations(manifests, ["qa-1", "qa-2", "qa-3", "qa-4"], "deployportal"));
        Assert.Equal(["qa-1", "qa-2", "qa-3", "qa-4"], manifests.Where(m => m.Str("kind") == "Namespace").Select(m => m.Map("metadata").Str("name")));
    }

    private static readonly string[] GitOps = ["--set", "gitops.enabled=true", "--set", "gitops.repository=https://git.example.com/platform/config.git"];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Rbac_InGitOpsMode_OnlyReadsTheSlots_AndFollowsArgoCdsApplications_InItsNamespace(bool createApplications)
    {
        var manifests = await RenderAsync([.. GitOps, "--set", $"gitops.createApplications={(createApplications ? "true" : "false")}"]);

        var uses = new[] { "qa-1", "qa-2", "qa-3", "qa-4" }.ToDictionary(ns => ns, _ => Rbac.GitOpsSlotUses);
        uses["argocd"] = createApplications ? [.. Rbac.ArgoUses, "argoproj.io/applications:create"] : Rbac.ArgoUses;
        Assert.Empty(Rbac.Violations(manifests, uses, "deployportal"));
    }

    [Fact]
    public async Task GitOps_Settings_PassThePortalsValidation_AndTheTokenComesFromItsSecret_AsAnEnvironmentVariable()
    {
        var manifests = await RenderAsync([.. GitOps, "--set", "gitops.httpsToken.secretName=config-push"]);

        var container = Assert.Single(Single(manifests, "Deployment").Map("spec").Map("template").Map("spec").List("containers").Maps());
        var env = container.List("env").Maps().ToList();
        var token = env.Single(e => e.Str("name") == "GitOps__HttpsToken").Map("valueFrom").Map("secretKeyRef");
        Assert.Equal(("config-push", "token"), (token.Str("name"), token.Str("key")));
        Assert.DoesNotContain(container.List("volumeMounts").Maps(), m => m.Str("name") == "git-ssh");

        var environment = Single(manifests, "ConfigMap").Map("data").Concat(Single(manifests, "Secret").Map("stringData"))
            .ToDictionary(p => (string)p.Key, p => (string)p.Value);
        foreach (var plain in env.Where(e => e.ContainsKey("value")))
        {
            environment[plain.Str("name")!] = plain.Str("value")!;
        }

        using var settings = PortalSettings.Start(environment);
        Assert.Equal(DeploymentMode.GitOps, settings.Get<DeploymentOptions>().Mode);
        Assert.Equal("https://git.example.com/platform/config.git", settings.Get<GitOpsOptions>().Repository);
        Assert.Equal("argocd", settings.Get<GitOpsOptions>().ArgoNamespace);
        Assert.Equal("x-access-token", settings.Get<GitOpsOptions>().TokenUser);
    }

    [Fact]
    public async Task GitOps_SshKey_IsMountedReadOnly_FromItsSecret_WithTheServersKnownHosts()
    {
        var manifests = await RenderAsync([.. GitOps, "--set", "gitops.repository=git@git.example.com:platform/config.git", "--set", "gitops.sshKey.secretName=config-deploy-key"]);

        var pod = Single(manifests, "Deployment").Map("spec").Map("template").Map("spec");
        var volume = pod.List("volumes").Maps().Single(v => v.Str("name") == "git-ssh").Map("secret");
        Assert.Equal("config-deploy-key", volume.Str("secretName"));
        Assert.Contains(volume.Str("defaultMode"), new[] { "0400", "256" }); // owner-only, or ssh refuses the key
        var container = Assert.Single(pod.List("containers").Maps());
        var mount = container.List("volumeMounts").Maps().Single(m => m.Str("name") == "git-ssh");
        Assert.Equal("true", mount.Str("readOnly"));
        var env = container.List("env").Maps().ToDictionary(e => e.Str("name")!, e => e.Str("value"));
        Assert.Equal($"{mount.Str("mountPath")}/ssh-privatekey", env["GitOps__SshKeyPath"]);
        Assert.Equal($"{mount.Str("mountPath")}/known_hosts", env["GitOps__SshKnownHostsPath"]);
        Assert.False(env.ContainsKey("GitOps__HttpsToken"));
    }

    [Fact]
    public async Task GitOps_WithoutARepository_RefusesToRender()
    {
        var (code, _, errors) = await Helm.RunAsync(["template", "portal", Chart, .. Required, "--set", "gitops.enabled=true"]);

        Assert.NotEqual(0, code);
        Assert.Contains("gitops.repository is required", errors);
    }

    [Fact]
    public async Task ElasticSlots_On_GrantAClusterRoleForTheirNamespaces_ExactlyWhatThePortalDoes_AndTurnThemOn()
    {
        var manifests = await RenderAsync("--set", "elasticSlots.enabled=true", "--set", "elasticSlots.namePrefix=pr-", "--set", "elasticSlots.maxSlots=3");

        Assert.Empty(Rbac.ElasticViolations(manifests, "deployportal"));
        var slotRights = manifests.Where(m => m.Str("kind") is not ("ClusterRole" or "ClusterRoleBinding")).ToList();
        Assert.Empty(Rbac.Violations(slotRights, ["qa-1", "qa-2", "qa-3", "qa-4"], "deployportal")); // the slot Roles as before
        var settings = Single(manifests, "ConfigMap").Map("data");
        Assert.Equal(("true", "pr-", "3"), (settings.Str("Slots__Elastic__Enabled"), settings.Str("Slots__Elastic__NamePrefix"), settings.Str("Slots__Elastic__MaxSlots")));
        Assert.Equal("pr-*", settings.Str("Cluster__AllowedNamespaces__4"));
    }

    [Fact]
    public async Task ElasticSlots_Off_NoClusterWideRight_AndNotTurnedOn()
    {
        var manifests = await RenderAsync();

        Assert.DoesNotContain(manifests, m => m.Str("kind") is "ClusterRole" or "ClusterRoleBinding");
        Assert.False(Single(manifests, "ConfigMap").Map("data").ContainsKey("Slots__Elastic__Enabled"));
        Assert.NotEmpty(Rbac.ElasticViolations(manifests, "deployportal")); // the check notices the ClusterRole missing
    }

    [Theory]
    [InlineData("a Secrets rule", """resources: ["resourcequotas", "limitranges"]""", """resources: ["resourcequotas", "limitranges", "secrets"]""")]
    [InlineData("a wildcard", """resources: ["namespaces"]""", """resources: ["*"]""")]
    [InlineData("an unused verb", """verbs: ["create", "patch", "delete"]""", """verbs: ["create", "patch", "delete", "update"]""")]
    [InlineData("a missing verb", """verbs: ["create", "patch", "delete"]""", """verbs: ["create", "patch"]""")]
    public async Task ElasticRbac_Check_FailsAClusterRoleThatGrantsMoreOrLess(string what, string find, string replaceWith)
    {
        var manifests = await RenderEditedAsync("rbac-elastic.yaml", find, replaceWith, [.. Required, "--set", "elasticSlots.enabled=true"]);

        Assert.True(Rbac.ElasticViolations(manifests, "deployportal").Count > 0, $"An elastic ClusterRole with {what} passed the RBAC check.");
    }

    /// <summary>Renders a copy of the chart with <paramref name="find"/> replaced in one of its templates (which must contain it).</summary>
    private static async Task<List<Dictionary<object, object>>> RenderEditedAsync(string template, string find, string replaceWith, string[] args)
    {
        var copy = Directory.CreateTempSubdirectory("deployportal-chart-").FullName;
        try
        {
            CopyFolder(Chart, copy);
            var path = Path.Combine(copy, "templates", template);
            var text = await File.ReadAllTextAsync(path);
            Assert.Contains(find, text);
            await File.WriteAllTextAsync(path, text.Replace(find, replaceWith));
            return await Helm.TemplateAsync(copy, args);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    public static TheoryData<string, string, string> Broadenings => new()
    {
        // what someone might add to templates/rbac.yaml, and what the check must say about it
        { "a Secrets watch", """resources: ["pods/log"]""", "resources: [\"pods/log\", \"secrets\"]\n    verbs: [\"get\", \"list\", \"watch\"]\n  - apiGroups: [\"\"]\n    resources: [\"pods/log\"]" },
        { "a wildcard resource", """resources: ["services"]""", """resources: ["*"]""" },
        { "a wildcard verb", """verbs: ["list", "watch"]""", """verbs: ["*"]""" },
        { "escalate", """verbs: ["get"]""", """verbs: ["get", "escalate"]""" },
        { "a cluster-wide role", "kind: Role\n", "kind: ClusterRole\n" },
        { "an unused verb", """verbs: ["list", "create", "patch", "deletecollection"]""", """verbs: ["list", "create", "patch", "update", "deletecollection"]""" },
    };

    [Theory]
    [MemberData(nameof(Broadenings))]
    public async Task Rbac_Check_FailsAChartThatGrantsMore(string what, string find, string replaceWith)
    {
        var manifests = await RenderEditedAsync("rbac.yaml", find, replaceWith, Required);

        Assert.True(Rbac.Violations(manifests, ["qa-1", "qa-2", "qa-3", "qa-4"], "deployportal").Count > 0, $"A chart with {what} passed the RBAC check.");
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}

/// <summary>Least privilege for the portal's service account, checked on rendered manifests.</summary>
internal static class Rbac
{
    /// <summary>
    /// Every request the portal makes, as RBAC sees it (<c>group/resource:verb</c>), read from ClusterGateway:
    /// server-side apply is a PATCH that is also authorized as <c>create</c> when the object is new; the rollout
    /// reads its Deployment; sleep and wake list a hold's Deployments and, with wake on access, its Ingresses, and remove the wake Service; teardown deletes by label; pods are listed and watched; logs are read.
    /// </summary>
    public static readonly string[] PortalUses =
    [
        "apps/deployments:create", "apps/deployments:deletecollection", "apps/deployments:get", "apps/deployments:list", "apps/deployments:patch",
        "/services:create", "/services:delete", "/services:deletecollection", "/services:patch",
        "networking.k8s.io/ingresses:create", "networking.k8s.io/ingresses:deletecollection", "networking.k8s.io/ingresses:list", "networking.k8s.io/ingresses:patch",
        "/pods:list", "/pods:watch",
        "/pods/log:get",
    ];

    /// <summary>In GitOps mode Argo CD writes the slots; the portal reads the rollout and a hold's Deployments, what a release left for Argo CD to prune, pods and logs.</summary>
    public static readonly string[] GitOpsSlotUses =
    [
        "apps/deployments:get", "apps/deployments:list", "/services:list", "networking.k8s.io/ingresses:list", "/pods:list", "/pods:watch", "/pods/log:get",
    ];

    /// <summary>In GitOps mode, in Argo CD's namespace: the Application of a slot's app read and watched (and created, when the portal creates them).</summary>
    public static readonly string[] ArgoUses = ["argoproj.io/applications:get", "argoproj.io/applications:list", "argoproj.io/applications:watch"];

    /// <summary>What the portal does for elastic slots on top (ClusterGateway.ApplyElasticNamespaceAsync and DeleteNamespaceAsync).</summary>
    public static readonly string[] ElasticUses =
    [
        "/namespaces:create", "/namespaces:patch", "/namespaces:delete",
        "/resourcequotas:create", "/resourcequotas:patch", "/limitranges:create", "/limitranges:patch",
    ];

    private static readonly string[] Dangerous = ["escalate", "bind", "impersonate"];

    /// <summary>
    /// The elastic slots' ClusterRole: exactly <see cref="ElasticUses"/> and <see cref="PortalUses"/>, none of the rules a
    /// slot Role may not have, and one ClusterRoleBinding to the portal's service account alone.
    /// </summary>
    public static List<string> ElasticViolations(List<Dictionary<object, object>> manifests, string releaseNamespace)
    {
        var problems = new List<string>();
        var account = manifests.Single(m => m.Str("kind") == "ServiceAccount").Map("metadata").Str("name");
        var roles = manifests.Where(m => m.Str("kind") == "ClusterRole").ToList();
        var bindings = manifests.Where(m => m.Str("kind") == "ClusterRoleBinding").ToList();
        if (roles.Count != 1 || bindings.Count != 1)
        {
            return [$"{roles.Count} ClusterRoles and {bindings.Count} ClusterRoleBindings, not one of each"];
        }

        var role = roles[0];
        problems.AddRange(RuleProblems("ClusterRole", role, [.. ElasticUses, .. PortalUses]));
        var roleRef = bindings[0].Map("roleRef");
        if (roleRef.Str("kind") != "ClusterRole" || roleRef.Str("name") != role.Map("metadata").Str("name"))
        {
            problems.Add("the ClusterRoleBinding does not bind the elastic ClusterRole");
        }

        var subjects = bindings[0].List("subjects").Maps().ToList();
        if (subjects.Count != 1 || subjects[0].Str("kind") != "ServiceAccount" || subjects[0].Str("name") != account || subjects[0].Str("namespace") != releaseNamespace)
        {
            problems.Add("the ClusterRoleBinding must bind only the portal's service account");
        }

        return problems;
    }

    public static List<string> Violations(List<Dictionary<object, object>> manifests, IReadOnlyCollection<string> slotNamespaces, string releaseNamespace) =>
        Violations(manifests, slotNamespaces.ToDictionary(ns => ns, _ => PortalUses), releaseNamespace);

    /// <summary>Checks each namespace's Role against exactly the requests the portal makes there (<paramref name="uses"/>); a Role anywhere else is a violation.</summary>
    public static List<string> Violations(List<Dictionary<object, object>> manifests, IReadOnlyDictionary<string, string[]> uses, string releaseNamespace)
    {
        var problems = new List<string>();
        var account = manifests.Single(m => m.Str("kind") == "ServiceAccount").Map("metadata").Str("name");
        foreach (var cluster in manifests.Where(m => m.Str("kind") is "ClusterRole" or "ClusterRoleBinding"))
        {
            problems.Add($"{cluster.Str("kind")} {cluster.Map("metadata").Str("name")}: the portal gets no cluster-wide rights");
        }

        var roles = manifests.Where(m => m.Str("kind") == "Role").ToList();
        foreach (var role in roles)
        {
            var ns = role.Map("metadata").Str("namespace");
            if (ns is null || !uses.ContainsKey(ns))
            {
                problems.Add($"Role in {ns}, which is not a slot namespace");
                continue;
            }

            problems.AddRange(RuleProblems(ns, role, uses[ns]));
        }

        foreach (var ns in uses.Keys)
        {
            var role = roles.SingleOrDefault(r => r.Map("metadata").Str("namespace") == ns);
            var binding = manifests.SingleOrDefault(m => m.Str("kind") == "RoleBinding" && m.Map("metadata").Str("namespace") == ns);
            if (role is null || binding is null)
            {
                problems.Add($"{ns}: no Role and RoleBinding");
                continue;
            }

            var roleRef = binding.Map("roleRef");
            if (roleRef.Str("kind") != "Role" || roleRef.Str("name") != role.Map("metadata").Str("name"))
            {
                problems.Add($"{ns}: the RoleBinding does not bind the namespace's Role");
            }

            var subjects = binding.List("subjects").Maps().ToList();
            if (subjects.Count != 1 || subjects[0].Str("kind") != "ServiceAccount" || subjects[0].Str("name") != account || subjects[0].Str("namespace") != releaseNamespace)
            {
                problems.Add($"{ns}: the RoleBinding must bind only the portal's service account");
            }
        }

        return problems;
    }

    /// <summary>A role's rules against what the portal does (<paramref name="uses"/>): nothing more, nothing less, nothing off limits.</summary>
    private static List<string> RuleProblems(string? where, Dictionary<object, object> role, string[] uses)
    {
        var problems = new List<string>();
        var granted = new List<string>();
        foreach (var rule in role.ListOrEmpty("rules").Maps())
        {
            if (rule.ContainsKey("nonResourceURLs"))
            {
                problems.Add($"{where}: nonResourceURLs");
            }

            if (rule.ContainsKey("resourceNames"))
            {
                problems.Add($"{where}: resourceNames (the portal's objects are named after apps, any name)");
            }

            var groups = rule.ListOrEmpty("apiGroups").Strings().ToList();
            var resources = rule.ListOrEmpty("resources").Strings().ToList();
            var verbs = rule.ListOrEmpty("verbs").Strings().ToList();
            foreach (var wildcard in groups.Concat(resources).Concat(verbs).Where(v => v.Contains('*', StringComparison.Ordinal)))
            {
                problems.Add($"{where}: wildcard {wildcard}");
            }

            if (resources.Any(r => r.Split('/')[0] is "secrets" or "configmaps" or "serviceaccounts" or "roles" or "rolebindings" or "clusterroles" or "clusterrolebindings"))
            {
                problems.Add($"{where}: {string.Join(",", resources)} (secrets, config, accounts and RBAC are off limits)");
            }

            problems.AddRange(verbs.Intersect(Dangerous).Select(v => $"{where}: verb {v}"));
            granted.AddRange(from g in groups from r in resources from v in verbs select $"{g}/{r}:{v}");
        }

        var extra = granted.Except(uses).ToList();
        var missing = uses.Except(granted).ToList();
        if (extra.Count > 0)
        {
            problems.Add($"{where}: grants what the portal never does: {string.Join(", ", extra)}");
        }

        if (missing.Count > 0)
        {
            problems.Add($"{where}: lacks what the portal does: {string.Join(", ", missing)}");
        }

        return problems;
    }
}

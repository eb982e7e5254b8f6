using System.Security.Claims;
using DeployPortal.KubeEmulator;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Slots;
using k8s;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// The real portal (Hangfire, jobs, gateway, KubernetesClient) in Kubeconfig mode against a Kubernetes API
/// emulator the test owns, so a second portal host can take over the same cluster and database.
/// </summary>
internal sealed class DeployHarness : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("deployportal-deploy-").FullName;
    private readonly List<PortalHost> _hosts = [];

    private DeployHarness(EmulatorServer emulator, TestDatabase database, DeploymentMode mode)
    {
        Emulator = emulator;
        Database = database;
        Mode = mode;
        KubeconfigPath = Path.Combine(_folder, "kubeconfig");
        File.WriteAllText(KubeconfigPath, $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: emulator
              cluster:
                server: {{emulator.BaseAddress.ToString().TrimEnd('/')}}
            contexts:
            - name: emulator
              context:
                cluster: emulator
                user: nobody
            current-context: emulator
            users:
            - name: nobody
              user:
                token: not-checked-by-the-emulator
            """);
        Kubernetes = new Kubernetes(new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString() });
    }

    public EmulatorServer Emulator { get; }
    public TestDatabase Database { get; }
    public string KubeconfigPath { get; }
    public Kubernetes Kubernetes { get; }
    public PortalHost Host => _hosts[^1];

    /// <summary>How the portals of this harness deploy; in GitOps mode they push to <see cref="ConfigRepository"/>.</summary>
    public DeploymentMode Mode { get; }

    /// <summary>The bare configuration repository the portals push to in GitOps mode (Argo CD, the emulator's controller, reads it).</summary>
    public string ConfigRepository => Path.Combine(_folder, "config.git");

    /// <param name="startHost">False to start portals later (<see cref="StartHost"/>, or a <see cref="PortalProcess"/> with <see cref="Settings"/>).</param>
    /// <param name="emulator">Changes to the emulator's settings, e.g. a registry its kubelet pulls from.</param>
    /// <param name="mode">GitOps: every portal of the harness commits to a bare repository of its own and the emulator's Argo CD-like controller applies it.</param>
    public static async Task<DeployHarness> CreateAsync(DatabaseProvider provider = DatabaseProvider.Sqlite, bool startHost = true, Action<EmulatorOptions>? emulator = null,
        DeploymentMode mode = DeploymentMode.Direct)
    {
        var options = new EmulatorOptions
        {
            PodPendingDelay = TimeSpan.FromMilliseconds(50),
            ContainerCreatingDelay = TimeSpan.FromMilliseconds(50),
            ReadyDelay = TimeSpan.FromMilliseconds(150),
            CrashAfter = TimeSpan.FromMilliseconds(100),
            BackOffBase = TimeSpan.FromMilliseconds(100),
            MaxBackOff = TimeSpan.FromMilliseconds(300),
            ReconcileInterval = TimeSpan.FromMilliseconds(20),
            LogLinesPerSecond = 20,
            ApplicationRefreshInterval = TimeSpan.FromMilliseconds(100),
        };
        emulator?.Invoke(options);
        var harness = new DeployHarness(await EmulatorServer.StartAsync(options), await TestDatabase.CreateAsync(provider), mode);
        await harness.CreateRepositoryAsync();
        if (mode == DeploymentMode.GitOps)
        {
            Directory.CreateDirectory(harness.ConfigRepository);
            await harness.Git.RunAsync(harness.ConfigRepository, default, "init", "--quiet", "--bare", "--initial-branch=main");
        }

        if (startHost)
        {
            harness.StartHost();
        }

        return harness;
    }

    /// <summary>Starts a (further) portal process on the same database and cluster.</summary>
    /// <param name="port">A fixed loopback port, when something must know the portal's address before it starts (a registry's notifications).</param>
    public PortalHost StartHost(IReadOnlyDictionary<string, string?>? more = null, Action<IServiceCollection>? services = null, int port = 0)
    {
        var settings = Settings();
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var host = new PortalHost(Database, settings: settings, port: port, services: services);
        host.Start();
        _hosts.Add(host);
        return host;
    }

    /// <summary>The settings of a portal on this harness's cluster, apps and repository (not its database).</summary>
    public Dictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Cluster:Mode"] = "Kubeconfig",
            ["Cluster:KubeconfigPath"] = KubeconfigPath,
            ["Cluster:ProgressDeadlineSeconds"] = "3",
            ["Cluster:RetryDelay"] = "00:00:00.050",
            ["Cluster:RequestTimeout"] = "00:00:02",
            ["Deployments:Lease"] = "00:00:03",
        };
        if (Mode == DeploymentMode.GitOps)
        {
            settings["Deployments:Mode"] = "GitOps";
            settings["GitOps:Repository"] = ConfigRepository;
            settings["GitOps:SyncTimeout"] = "00:00:30";
        }

        // storefront: healthy, 2 replicas; payments: healthy; broken: its image cannot be pulled; sleepy: never ready.
        (string Name, string Image, string Tag, int Replicas)[] apps =
        [
            ("storefront", "registry.example.com/shop/storefront", "{branchSlug}", 2),
            ("payments", "registry.example.com/shop/payments", "{branchSlug}", 1),
            ("broken", "registry.example.com/does-not-exist/broken", "{branchSlug}", 1),
            ("sleepy", "registry.example.com/shop/sleepy", "never-ready", 1),
        ];
        for (var i = 0; i < apps.Length; i++)
        {
            settings[$"Apps:Items:{i}:Name"] = apps[i].Name;
            settings[$"Apps:Items:{i}:GitRemote"] = Repository;
            settings[$"Apps:Items:{i}:ImageRepository"] = apps[i].Image;
            settings[$"Apps:Items:{i}:TagTemplate"] = apps[i].Tag;
            settings[$"Apps:Items:{i}:Replicas"] = apps[i].Replicas.ToString();
        }

        return settings;
    }

    /// <summary>A real git repository with the branches the tests deploy.</summary>
    public string Repository => Path.Combine(_folder, "repo");

    public static readonly string[] Branches = ["main", "feature/login", "feature/payment", "crash-on-start"];

    private Web.Git.GitClient Git { get; } = new(Microsoft.Extensions.Logging.Abstractions.NullLogger<Web.Git.GitClient>.Instance);

    /// <summary>Runs git in the configuration repository (GitOps mode) and answers its output.</summary>
    public Task<string> ConfigGitAsync(params string[] args) => Git.RunAsync(ConfigRepository, default, args);

    private async Task CreateRepositoryAsync()
    {
        var git = Git;
        Directory.CreateDirectory(Repository);
        await git.RunAsync(Repository, default, "init", "--quiet", "--initial-branch=main");
        await File.WriteAllTextAsync(Path.Combine(Repository, "a.txt"), "a");
        await git.RunAsync(Repository, default, "add", "a.txt");
        await git.RunAsync(Repository, default, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "--quiet", "-m", "one");
        foreach (var branch in Branches.Skip(1))
        {
            await git.RunAsync(Repository, default, "branch", branch);
        }
    }

    public async Task StopHostAsync(PortalHost host)
    {
        _hosts.Remove(host);
        await host.DisposeAsync();
    }

    public T Service<T>(out IServiceScope scope) where T : notnull
    {
        scope = Host.Services.CreateScope();
        return scope.ServiceProvider.GetRequiredService<T>();
    }

    public async Task<int> SlotIdAsync(string name)
    {
        await using var db = Database.Factory.CreateDbContext();
        return await db.Slots.Where(s => s.Name == name).Select(s => s.Id).SingleAsync();
    }

    public async Task<DeploymentView> DeployAsync(ClaimsPrincipal user, string app, string branch, string slot, string? purpose = "integration test")
    {
        var deployments = Service<DeploymentService>(out var scope);
        using (scope)
        {
            var result = await deployments.CreateAsync(user, new DeployRequest(app, branch, await SlotIdAsync(slot), purpose));
            Assert.True(result.Succeeded, result.Failure?.Message);
            return result.Value!;
        }
    }

    /// <summary>Waits, on the portal's own change notifications, until the deployment satisfies <paramref name="condition"/>.</summary>
    public async Task<DeploymentView> WaitForAsync(long id, Func<DeploymentView, bool> condition, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        DeploymentView? last = null;
        while (true)
        {
            var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var subscription = Host.Services.GetRequiredService<SlotChangeNotifier>().Subscribe(_ => { changed.TrySetResult(); return Task.CompletedTask; });
            var deployments = Service<DeploymentService>(out var scope);
            using (scope)
            {
                last = await deployments.GetAsync(id);
            }

            if (last is not null && condition(last))
            {
                return last;
            }

            try
            {
                // Notifications wake the wait; the short ceiling covers changes made by another host.
                await changed.Task.WaitAsync(TimeSpan.FromMilliseconds(250), deadline.Token);
            }
            catch (TimeoutException)
            {
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Deployment {id} did not get there in time; last seen: {last?.State} {last?.FailureReason} steps: "
                    + string.Join(", ", last?.Steps.Select(s => $"{s.Name}={s.State} {s.Message}") ?? []));
            }
        }
    }

    /// <summary>Watches a Deployment in the cluster (a bounded wait) until it matches <paramref name="condition"/>.</summary>
    public async Task<k8s.Models.V1Deployment> WaitForDeploymentAsync(string ns, string name, Func<k8s.Models.V1Deployment, bool> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var current = await Kubernetes.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: deadline.Token);
        if (condition(current))
        {
            return current;
        }

        var watch = Kubernetes.AppsV1.WatchListNamespacedDeploymentAsync(ns, fieldSelector: $"metadata.name={name}",
            resourceVersion: current.Metadata.ResourceVersion, cancellationToken: deadline.Token);
        await foreach (var (_, d) in watch.WithCancellation(deadline.Token))
        {
            if (condition(d))
            {
                return d;
            }
        }

        throw new TimeoutException($"the Deployment {ns}/{name} never reached the expected state");
    }

    /// <summary>Lists an app's pods until they match <paramref name="condition"/> (polled, with a deadline).</summary>
    public async Task<IList<k8s.Models.V1Pod>> WaitForPodsAsync(string ns, string app, Func<IList<k8s.Models.V1Pod>, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var pods = (await Kubernetes.CoreV1.ListNamespacedPodAsync(ns, labelSelector: Web.Cluster.ManifestBuilder.AppSelector(app))).Items;
            if (condition(pods))
            {
                return pods;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the pods of {ns}/{app} never got there; last seen: "
                    + string.Join(", ", pods.Select(p => $"{p.Metadata.Name} {p.Status.Phase}")));
            }

            await Task.Delay(50);
        }
    }

    public Task<DeploymentView> WaitFinishedAsync(long id, TimeSpan? timeout = null) => WaitForAsync(id, d => d.IsFinished, timeout);

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts.ToList())
        {
            await host.DisposeAsync();
        }

        Kubernetes.Dispose();
        await Emulator.DisposeAsync();
        await Database.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}

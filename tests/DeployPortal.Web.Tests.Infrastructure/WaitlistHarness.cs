using System.Security.Claims;
using DeployPortal.Web.Apps;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Git;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Registry;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Waitlist;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// The slot harness plus the real waitlist and deployment services: apps backed by a real git repository,
/// the fake clock, jobs recorded (no Hangfire server, no cluster: deployments stay Queued).
/// </summary>
internal sealed class WaitlistHarness : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("deployportal-waitlist-").FullName;
    private readonly MemoryCache _cache = new(new MemoryCacheOptions());

    private WaitlistHarness(SlotHarness slots, Uri? cluster)
    {
        Slots = slots;
        var appsOptions = new TestOptionsMonitor<AppsOptions>(new AppsOptions
        {
            Items = [.. new[] { "storefront", "payments" }.Select(name => new AppDefinition { Name = name, GitRemote = Repository, ImageRepository = $"registry.example.com/shop/{name}" })],
        });
        Apps = new AppCatalog(appsOptions, Microsoft.Extensions.Options.Options.Create(new PortalOptions { DataPath = _folder }), new TestHostEnvironment(_folder));
        Branches = new BranchCatalog(new GitClient(NullLogger<GitClient>.Instance), _cache);
        Elastic = Slots.ElasticPool(cluster is null ? null : SlotHarness.Gateway(cluster));
        Waitlist = new WaitlistService(Database.Factory, Slots.Ledger, Slots.Refusals, Slots.Handover, Elastic, Apps, Branches, Slots.Notifier, Slots.Clock, Slots.Options,
            NullLogger<WaitlistService>.Instance);
        var manifests = new ManifestBuilder(Microsoft.Extensions.Options.Options.Create(new ClusterOptions()));
        Deployments = new DeploymentService(Database.Factory, Slots.Ledger, Slots.Cap, Slots.Endings, Slots.Board, Slots.Refusals, Slots.Idle, Elastic, Apps, Branches, RegistryOff(Branches, _cache, Slots.Clock),
            ImageWaitOff(Database.Factory, Slots.Jobs, Slots.Notifier, Slots.Events.Events, Slots.Clock), manifests, Slots.Jobs, Slots.Notifier, Slots.Clock,
            NullLogger<DeploymentService>.Instance);
    }

    /// <summary>The image pre-flight with no registry configured (the embedded default): it never asks anything.</summary>
    public static ImagePreflight RegistryOff(BranchCatalog branches, IMemoryCache cache, TimeProvider clock)
    {
        var options = new TestOptionsMonitor<RegistryOptions>(new RegistryOptions());
        var http = new ServiceCollection().AddHttpClient().BuildServiceProvider().GetRequiredService<IHttpClientFactory>();
        return new ImagePreflight(branches, new ImageCheck(new RegistryClient(http, options, NullLogger<RegistryClient>.Instance), cache, options), clock);
    }

    /// <summary>The wait for images with no registry and no apps configured: a hand-over starts its deployment at once, as without a registry.</summary>
    public static ImageWait ImageWaitOff(IDbContextFactory<PortalDb> factory, Hangfire.IBackgroundJobClient jobs, SlotChangeNotifier notifier, PortalEvents events, TimeProvider clock)
    {
        var options = new TestOptionsMonitor<RegistryOptions>(new RegistryOptions());
        var cache = new MemoryCache(new MemoryCacheOptions());
        var http = new ServiceCollection().AddHttpClient().BuildServiceProvider().GetRequiredService<IHttpClientFactory>();
        var apps = new AppCatalog(new TestOptionsMonitor<AppsOptions>(new AppsOptions()), Microsoft.Extensions.Options.Options.Create(new PortalOptions()), new TestHostEnvironment());
        return new ImageWait(factory, apps, new BranchCatalog(new GitClient(NullLogger<GitClient>.Instance), cache),
            new ImageCheck(new RegistryClient(http, options, NullLogger<RegistryClient>.Instance), cache, options), jobs, notifier, events, options, clock, NullLogger<ImageWait>.Instance);
    }

    public SlotHarness Slots { get; }
    public TestDatabase Database => Slots.Database;
    public AppCatalog Apps { get; }
    public BranchCatalog Branches { get; }
    public WaitlistService Waitlist { get; }
    public DeploymentService Deployments { get; }

    /// <summary>The elastic pool (off unless the test turns on <see cref="SlotHarness.ElasticOptions"/>), over the cluster the harness was given.</summary>
    public ElasticPool Elastic { get; }
    public string Repository => Path.Combine(_folder, "repo");

    /// <param name="cluster">A Kubernetes API (the emulator) the elastic pool makes namespaces in; none: the pool must stay off.</param>
    public static async Task<WaitlistHarness> CreateAsync(DatabaseProvider provider, Uri? cluster = null)
    {
        var harness = new WaitlistHarness(await SlotHarness.CreateAsync(provider), cluster);
        var git = new GitClient(NullLogger<GitClient>.Instance);
        Directory.CreateDirectory(harness.Repository);
        await git.RunAsync(harness.Repository, default, "init", "--quiet", "--initial-branch=main");
        await File.WriteAllTextAsync(Path.Combine(harness.Repository, "a.txt"), "a");
        await git.RunAsync(harness.Repository, default, "add", "a.txt");
        await git.RunAsync(harness.Repository, default, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "--quiet", "-m", "one");
        await git.RunAsync(harness.Repository, default, "branch", "feature/login");
        return harness;
    }

    public Task<Result<QueueEntryView>> JoinAsync(ClaimsPrincipal user, Slot? slot, string app = "storefront", string branch = "main", string purpose = "queue test") =>
        Waitlist.JoinAsync(user, new JoinQueueRequest(app, branch, purpose, slot?.Id));

    public async Task<List<WaitlistEntry>> EntriesAsync()
    {
        await using var db = Database.Factory.CreateDbContext();
        return await db.Waitlist.AsNoTracking().OrderBy(e => e.Id).ToListAsync();
    }

    public async Task<List<Hold>> ActiveHoldsAsync()
    {
        await using var db = Database.Factory.CreateDbContext();
        return await db.Holds.AsNoTracking().Where(h => h.ReleasedAt == null).OrderBy(h => h.SlotId).ToListAsync();
    }

    public async Task<List<Deployment>> DeploymentsAsync()
    {
        await using var db = Database.Factory.CreateDbContext();
        return await db.Deployments.AsNoTracking().OrderBy(d => d.Id).ToListAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _cache.Dispose();
        await Slots.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}

public sealed class TestHostEnvironment(string? root = null) : IHostEnvironment
{
    public string EnvironmentName { get; set; } = "Development";
    public string ApplicationName { get; set; } = "DeployPortal.Web";
    public string ContentRootPath { get; set; } = root ?? Path.GetTempPath();
    public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
}

using DeployPortal.Web.Audit;
using DeployPortal.Web.Data;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Waitlist;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>The real slot services (holder's actions, administration, sweep, board, ledger) over a real database, with a clock the test moves.</summary>
internal sealed class SlotHarness : IAsyncDisposable
{
    private SlotHarness(TestDatabase database)
    {
        Database = database;
        Notifier = new SlotChangeNotifier(NullLogger<SlotChangeNotifier>.Instance);
        Events = new RecordingEvents(Jobs, NotificationOptions, Clock);
        Handover = new WaitlistHandover(database.Factory, Notifier, Events.Events, WaitlistHarness.ImageWaitOff(database.Factory, Jobs, Notifier, Events.Events, Clock),
            Clock, Options, NullLogger<WaitlistHandover>.Instance);
        var rooms = Build(database.Factory);
        (Refusals, Ledger, Cap, Endings, Actions, Admin, Sweep, Board) = (rooms.Refusals, rooms.Ledger, rooms.Cap, rooms.Endings, rooms.Actions, rooms.Admin, rooms.Sweep, rooms.Board);
        Idle = new IdleSlots(database.Factory, Refusals, Notifier, Clock, IdleOptions, Jobs);
        GiveBack = new IdleGiveBack(database.Factory, Refusals, Sweep, Notifier, Events.Events, Clock, IdleOptions, NullLogger<IdleGiveBack>.Instance);
    }

    public TestDatabase Database { get; }
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
    public TestOptionsMonitor<HoldOptions> Options { get; } = new(new HoldOptions());
    public SlotChangeNotifier Notifier { get; }

    /// <summary>The cluster settings slot namespaces are checked against (allowed set, the portal's own namespace).</summary>
    public TestOptionsMonitor<Web.Cluster.ClusterOptions> ClusterOptions { get; } = new(new Web.Cluster.ClusterOptions());

    /// <summary>Receivers for raised events; each wanted event becomes a recorded webhook job in <see cref="Jobs"/>.</summary>
    public TestOptionsMonitor<NotificationOptions> NotificationOptions { get; } = new(new NotificationOptions());

    /// <summary>Jobs the service enqueues are recorded, not run: no Hangfire server runs in service tests.</summary>
    public RecordingJobClient Jobs { get; } = new();
    public Refusals Refusals { get; }
    public HoldLedger Ledger { get; }
    public HoldCap Cap { get; }
    public HoldEndings Endings { get; }

    /// <summary>Claim, extend, release.</summary>
    public HoldActions Actions { get; }

    /// <summary>Add, edit, open and close slots.</summary>
    public SlotAdmin Admin { get; }

    /// <summary>Reminders and expiry (what the minutely job runs).</summary>
    public HoldSweep Sweep { get; }

    public BoardQueries Board { get; }
    public TestOptionsMonitor<IdleOptions> IdleOptions { get; } = new(new IdleOptions());
    public IdleSlots Idle { get; }
    public IdleGiveBack GiveBack { get; }

    /// <summary>Notification events raised (hold expiring/expired, waitlist turns).</summary>
    public RecordingEvents Events { get; }

    public WaitlistHandover Handover { get; }

    public HoldExpiryJob ExpiryJob => new(Sweep, Handover);

    /// <summary>The elastic pool's settings (off, as by default).</summary>
    public TestOptionsMonitor<ElasticOptions> ElasticOptions { get; } = new(new ElasticOptions());

    public ElasticBudgets ElasticBudgets(IDbContextFactory<PortalDb>? factory = null) =>
        new(factory ?? Database.Factory, ElasticOptions, Notifier, Clock, new Refusals(factory ?? Database.Factory, Clock, NullLogger<Refusals>.Instance));

    /// <summary>The elastic pool over <paramref name="cluster"/>; without one, over an address nothing answers (fine while the pool is off).</summary>
    public ElasticPool ElasticPool(Web.Cluster.ClusterGateway? cluster = null, IDbContextFactory<PortalDb>? factory = null) =>
        new(factory ?? Database.Factory, ElasticOptions, ElasticBudgets(factory), new HoldLedger(factory ?? Database.Factory, Options), new HoldCap(Options), cluster ?? NoCluster, new SlotNamespaces(ClusterOptions), Handover, Notifier, Clock,
            NullLogger<ElasticPool>.Instance);

    public ElasticReaper ElasticReaper(Web.Cluster.ClusterGateway cluster) =>
        new(Database.Factory, ElasticOptions, cluster, ElasticPool(cluster), Notifier, Clock, NullLogger<ElasticReaper>.Instance);

    /// <summary>A gateway to a real cluster (the emulator) at <paramref name="server"/>, retrying quickly.</summary>
    public static Web.Cluster.ClusterGateway Gateway(Uri server) =>
        new(new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = server.ToString() }),
            Microsoft.Extensions.Options.Options.Create(new Web.Cluster.ClusterOptions { RetryDelay = TimeSpan.FromMilliseconds(20), MaxRetries = 2 }),
            NullLogger<Web.Cluster.ClusterGateway>.Instance);

    private static Web.Cluster.ClusterGateway NoCluster => Gateway(new Uri("http://127.0.0.1:9"));

    /// <summary>The slot services over <paramref name="factory"/> (e.g. one a component test stalls), sharing this harness's clock, options, jobs and events.</summary>
    public SlotRooms Build(IDbContextFactory<PortalDb> factory)
    {
        var refusals = new Refusals(factory, Clock, NullLogger<Refusals>.Instance);
        var ledger = new HoldLedger(factory, Options);
        var cap = new HoldCap(Options);
        var endings = new HoldEndings(factory, Clock, Jobs, Handover, Events.Events, NullLogger<HoldEndings>.Instance);
        return new SlotRooms(refusals, ledger, cap, endings,
            new HoldActions(factory, Notifier, Clock, Options, ledger, cap, endings, refusals, NullLogger<HoldActions>.Instance),
            new SlotAdmin(factory, Notifier, Clock, new SlotNamespaces(ClusterOptions), endings, refusals),
            new HoldSweep(factory, Notifier, Clock, Options, endings, Events.Events, NullLogger<HoldSweep>.Instance),
            new BoardQueries(factory));
    }

    public static async Task<SlotHarness> CreateAsync(DatabaseProvider provider) => new(await TestDatabase.CreateAsync(provider));

    public async Task<Slot> AddSlotAsync(string name, bool enabled = true)
    {
        await using var db = Database.Factory.CreateDbContext();
        var slot = new Slot { Name = name, Namespace = name, Enabled = enabled, CreatedAt = Clock.GetUtcNow().UtcDateTime };
        db.Slots.Add(slot);
        await db.SaveChangesAsync();
        return slot;
    }

    /// <summary>A deployment row under <paramref name="holdId"/>, as the deploy form leaves one (nothing runs it).</summary>
    public async Task AddDeploymentAsync(int slotId, long holdId, DeploymentState state = DeploymentState.Queued)
    {
        await using var db = Database.Factory.CreateDbContext();
        db.Deployments.Add(new Deployment
        {
            SlotId = slotId,
            HoldId = holdId,
            App = "storefront",
            Branch = "main",
            RequestedById = "dana",
            RequestedByName = "Dana Developer",
            State = state,
            CreatedAt = Clock.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync();
    }

    public async Task<List<Hold>> HoldsAsync(int slotId)
    {
        await using var db = Database.Factory.CreateDbContext();
        return await db.Holds.AsNoTracking().Where(h => h.SlotId == slotId).OrderBy(h => h.Id).ToListAsync();
    }

    public async Task<List<AuditEvent>> AuditAsync(int? slotId = null)
    {
        await using var db = Database.Factory.CreateDbContext();
        return await db.AuditEvents.AsNoTracking().Where(a => slotId == null || a.SlotId == slotId).OrderBy(a => a.Id).ToListAsync();
    }

    public ValueTask DisposeAsync() => Database.DisposeAsync();
}

/// <summary>One set of the slot services, built over one database factory.</summary>
internal sealed record SlotRooms(Refusals Refusals, HoldLedger Ledger, HoldCap Cap, HoldEndings Endings, HoldActions Actions, SlotAdmin Admin, HoldSweep Sweep,
    BoardQueries Board);

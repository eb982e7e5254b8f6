using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace DeployPortal.Web.Data;

/// <summary>
/// The portal's database. Each provider has its own subclass so that each keeps its own migrations
/// in this one assembly (EF Core finds migrations by context type).
/// </summary>
public abstract class PortalDb(DbContextOptions options) : DbContext(options)
{
    public DbSet<Slot> Slots => Set<Slot>();
    public DbSet<Hold> Holds => Set<Hold>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<Deployment> Deployments => Set<Deployment>();
    public DbSet<DeploymentStep> DeploymentSteps => Set<DeploymentStep>();
    public DbSet<PersonalAccessToken> AccessTokens => Set<PersonalAccessToken>();
    public DbSet<Notifications.NotificationOptOut> NotificationOptOuts => Set<Notifications.NotificationOptOut>();
    public DbSet<WaitlistEntry> Waitlist => Set<WaitlistEntry>();
    public DbSet<PortalSession> Sessions => Set<PortalSession>();
    public DbSet<Api.IdempotencyRecord> IdempotencyRecords => Set<Api.IdempotencyRecord>();
    public DbSet<ElasticBudget> ElasticBudgets => Set<ElasticBudget>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every time is UTC. SQLite keeps no kind, so reads are marked UTC explicitly.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcConverter>();
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(16);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Slot>(slot =>
        {
            slot.Property(s => s.Name).HasMaxLength(63);
            slot.HasIndex(s => s.Name).IsUnique();
            slot.Property(s => s.Namespace).HasMaxLength(63);
            // A release deletes what the portal applied in the slot's namespace: two slots sharing one would break each other.
            slot.HasIndex(s => s.Namespace).IsUnique();
            slot.Property(s => s.Description).HasMaxLength(500);
            slot.Property(s => s.UrlPattern).HasMaxLength(300);
            slot.HasIndex(s => s.Elastic);
        });

        modelBuilder.Entity<ElasticBudget>(budget =>
        {
            budget.ToTable("ElasticBudget");
            budget.Property(b => b.Id).ValueGeneratedNever();
            budget.Property(b => b.ChangedByName).HasMaxLength(200);
            budget.HasData(new ElasticBudget { Id = ElasticBudget.SingletonId });
        });

        modelBuilder.Entity<Hold>(hold =>
        {
            hold.Property(h => h.HolderId).HasMaxLength(200);
            hold.Property(h => h.HolderName).HasMaxLength(200);
            hold.Property(h => h.KeepWaiterName).HasMaxLength(200);
            hold.Property(h => h.Purpose).HasMaxLength(HoldLimits.PurposeMaxLength);
            hold.Property(h => h.ReleasedById).HasMaxLength(200);
            hold.Property(h => h.ReleasedByName).HasMaxLength(200);
            hold.Property(h => h.ReleaseNote).HasMaxLength(HoldLimits.NoteMaxLength);
            // The rule "one active hold per slot" lives here, where two simultaneous claims cannot both win.
            hold.HasIndex(h => h.SlotId).IsUnique().HasFilter("\"ReleasedAt\" IS NULL").HasDatabaseName("IX_Holds_ActivePerSlot");
            hold.HasIndex(h => new { h.SlotId, h.Since });
            hold.HasIndex(h => h.Until);
        });

        modelBuilder.Entity<Deployment>(deployment =>
        {
            deployment.Property(d => d.App).HasMaxLength(63);
            deployment.Property(d => d.Branch).HasMaxLength(255);
            deployment.Property(d => d.Commit).HasMaxLength(64);
            deployment.Property(d => d.ConfigCommit).HasMaxLength(64);
            deployment.Property(d => d.Image).HasMaxLength(400);
            deployment.Property(d => d.RequestedById).HasMaxLength(200);
            deployment.Property(d => d.RequestedByName).HasMaxLength(200);
            deployment.Property(d => d.FailureReason).HasMaxLength(4000);
            deployment.HasIndex(d => new { d.SlotId, d.App, d.Id });
            deployment.HasIndex(d => d.State);
            // One queued deployment per person, slot, app and branch: identical requests (a double submit, two tabs, a
            // retried pipeline) collapse into the one already waiting, which resolves the branch when it starts anyway;
            // so do those that wait for their image to be built.
            deployment.HasIndex(d => new { d.SlotId, d.App, d.Branch, d.RequestedById }).IsUnique()
                .HasFilter("\"State\" IN ('Queued', 'WaitingForImage') AND \"PinnedCommit\" = FALSE").HasDatabaseName("IX_Deployments_QueuedTwin");
            deployment.HasMany(d => d.Steps).WithOne().HasForeignKey(s => s.DeploymentId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DeploymentStep>(step =>
        {
            step.Property(s => s.Message).HasMaxLength(4000);
            step.HasIndex(s => new { s.DeploymentId, s.Name }).IsUnique();
        });

        modelBuilder.Entity<AuditEvent>(audit =>
        {
            audit.Property(a => a.ActorId).HasMaxLength(Audit.AuditWriter.ActorMaxLength);
            audit.Property(a => a.ActorName).HasMaxLength(Audit.AuditWriter.ActorMaxLength);
            audit.Property(a => a.Action).HasMaxLength(Audit.AuditWriter.ActionMaxLength);
            audit.Property(a => a.SlotName).HasMaxLength(Audit.AuditWriter.SlotNameMaxLength);
            audit.Property(a => a.Details).HasMaxLength(Audit.AuditWriter.DetailsMaxLength);
            audit.HasIndex(a => a.At);
            audit.HasIndex(a => new { a.SlotId, a.At });
            audit.HasIndex(a => new { a.ActorName, a.At });
        });

        modelBuilder.Entity<WaitlistEntry>(entry =>
        {
            entry.ToTable("WaitlistEntries");
            entry.Property(e => e.UserId).HasMaxLength(200);
            entry.Property(e => e.UserName).HasMaxLength(200);
            entry.Property(e => e.App).HasMaxLength(63);
            entry.Property(e => e.Branch).HasMaxLength(255);
            entry.Property(e => e.Purpose).HasMaxLength(HoldLimits.PurposeMaxLength);
            entry.Property(e => e.EndedByName).HasMaxLength(200);
            entry.HasOne(e => e.Slot).WithMany().HasForeignKey(e => e.SlotId).OnDelete(DeleteBehavior.Cascade);
            // One waiting entry per person and app, decided by the database: a double click or a second tab
            // cannot put someone in the queue twice for the same thing.
            entry.HasIndex(e => new { e.UserId, e.App }).IsUnique().HasFilter("\"State\" = 'Waiting'").HasDatabaseName("IX_Waitlist_WaitingPerUserApp");
            // The queue in join order.
            entry.HasIndex(e => new { e.State, e.JoinedAt, e.Id });
        });

        modelBuilder.Entity<PersonalAccessToken>(token =>
        {
            token.ToTable("AccessTokens");
            token.Property(t => t.OwnerId).HasMaxLength(200);
            token.Property(t => t.OwnerName).HasMaxLength(200);
            token.Property(t => t.Roles).HasMaxLength(200);
            token.Property(t => t.Name).HasMaxLength(AccessTokenLimits.NameMaxLength);
            token.Property(t => t.Hash).HasMaxLength(64);
            token.Property(t => t.Prefix).HasMaxLength(16);
            token.HasIndex(t => t.Hash).IsUnique();
            token.HasIndex(t => t.OwnerId);
        });

        modelBuilder.Entity<PortalSession>(session =>
        {
            session.HasKey(x => x.Key);
            session.Property(x => x.Key).HasMaxLength(32);
            session.Property(x => x.SubjectId).HasMaxLength(200);
            session.Property(x => x.Name).HasMaxLength(200);
            session.Property(x => x.Roles).HasMaxLength(200);
            session.Property(x => x.EndReason).HasMaxLength(300);
            session.HasIndex(x => x.SubjectId);
            session.HasIndex(x => x.ExpiresAt);
        });

        modelBuilder.Entity<Api.IdempotencyRecord>(record =>
        {
            record.Property(r => r.OwnerId).HasMaxLength(200);
            record.Property(r => r.Key).HasMaxLength(200);
            record.Property(r => r.RequestHash).HasMaxLength(64);
            record.Property(r => r.ContentType).HasMaxLength(200);
            record.Property(r => r.Location).HasMaxLength(400);
            record.HasIndex(r => new { r.OwnerId, r.Key }).IsUnique();
            record.HasIndex(r => r.CreatedAt);
        });

        modelBuilder.Entity<Notifications.NotificationOptOut>(optOut =>
        {
            optOut.HasKey(o => new { o.UserId, o.Kind });
            optOut.Property(o => o.UserId).HasMaxLength(200);
        });
    }

    private sealed class UtcConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}

internal sealed class SqlitePortalDb(DbContextOptions<SqlitePortalDb> options) : PortalDb(options);

internal sealed class PostgresPortalDb(DbContextOptions<PostgresPortalDb> options) : PortalDb(options);

public static class AccessTokenLimits
{
    public const int NameMaxLength = 100;
}

/// <summary>Length limits shared by validation and the schema.</summary>
public static class HoldLimits
{
    public const int PurposeMaxLength = 200;
    public const int NoteMaxLength = 1000;
}

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Data;

/// <summary>
/// Applies migrations before the server accepts requests (hosted services start before Kestrel listens),
/// and seeds demo slots into an empty database when configured to.
/// </summary>
internal sealed class DatabaseInitializer(
    IDbContextFactory<PortalDb> dbFactory,
    IOptions<DatabaseOptions> options,
    TimeProvider clock,
    ILogger<DatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = dbFactory.CreateDbContext();
        if (db.Database.IsSqlite())
        {
            // WAL lets the board read while a claim writes; it is a property of the file, so set it once here.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        await db.Database.MigrateAsync(cancellationToken);

        if (options.Value.SeedDemoSlots && !await db.Slots.AnyAsync(cancellationToken))
        {
            var now = clock.GetUtcNow().UtcDateTime;
            db.Slots.AddRange(Enumerable.Range(1, 4).Select(i => new Slot
            {
                Name = $"qa-{i}",
                Namespace = $"qa-{i}",
                Description = i == 4 ? "Performance tests (bigger nodes)" : $"Shared test server {i}",
                UrlPattern = "https://{app}." + $"qa-{i}" + ".test.example.com",
                CreatedAt = now,
            }));
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                logger.LogInformation("Seeded demo slots qa-1 … qa-4 into an empty database");
            }
            catch (DbUpdateException ex) when (ex.IsUniqueViolation())
            {
                // Replicas starting together on an empty database: another one seeded first (migrations themselves
                // are serialised by EF Core's migration lock).
                logger.LogInformation("Another portal replica seeded the demo slots");
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

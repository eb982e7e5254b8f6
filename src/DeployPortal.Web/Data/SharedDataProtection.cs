using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace DeployPortal.Web.Data;

/// <summary>
/// Where the keys that protect sign-in cookies, antiforgery tokens and OpenID Connect state live. By default
/// ASP.NET keeps them in the user's home folder: in a container that is lost at every restart (everyone is
/// signed out), and replicas would each have their own (a cookie issued by one is refused by another). So
/// with PostgreSQL the keys are in the database every replica shares; with SQLite, in the data folder.
/// </summary>
internal static class SharedDataProtection
{
    public const string ApplicationName = "DeployPortal";

    public static WebApplicationBuilder AddSharedDataProtection(this WebApplicationBuilder builder, DatabaseOptions database)
    {
        var protection = builder.Services.AddDataProtection().SetApplicationName(ApplicationName);
        if (database.Provider == DatabaseProvider.Postgres)
        {
            builder.Services.AddDbContext<KeysDb>(o => o.UseNpgsql(database.ConnectionString, KeysDb.Configure).ConfigureWarnings(DataExtensions.ErrorsToCallers));
            protection.PersistKeysToDbContext<KeysDb>();
            builder.Services.AddHostedService<KeysDbMigrator>();
        }
        else
        {
            var portal = builder.Configuration.GetSection(PortalOptions.Section).Get<PortalOptions>() ?? new PortalOptions();
            protection.PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(portal.ResolveDataPath(builder.Environment), "keys")));
        }

        return builder;
    }
}

/// <summary>
/// The data-protection key ring in PostgreSQL. A context of its own, with its own migrations and history
/// table, so the portal's schema and this stay independent.
/// </summary>
internal sealed class KeysDb(DbContextOptions<KeysDb> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public static void Configure(Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure.NpgsqlDbContextOptionsBuilder o) =>
        o.MigrationsHistoryTable("__KeysMigrationsHistory");
}

/// <summary>
/// Creates the key table at start. In StartingAsync, which runs before every hosted service's StartAsync:
/// ASP.NET's own data-protection hosted service reads the key ring in its StartAsync.
/// </summary>
internal sealed class KeysDbMigrator(IServiceScopeFactory scopes) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<KeysDb>().Database.MigrateAsync(cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

// Used only by `dotnet ef migrations add … --context KeysDb`; the connection is never opened.
internal sealed class KeysDesignTimeFactory : IDesignTimeDbContextFactory<KeysDb>
{
    public KeysDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<KeysDb>().UseNpgsql("Host=localhost;Database=design", KeysDb.Configure).Options);
}

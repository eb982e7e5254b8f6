using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Data;

public static class DataExtensions
{
    /// <summary>
    /// Registers <see cref="IDbContextFactory{PortalDb}"/> for the configured provider, and the start-up
    /// migration (and, on an empty embedded database, the demo slots).
    /// </summary>
    public static WebApplicationBuilder AddData(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<PortalOptions, PortalOptionsValidator>().BindConfiguration(PortalOptions.Section);
        builder.Services.AddOptionsWithValidateOnStart<DatabaseOptions, DatabaseOptionsValidator>().BindConfiguration(DatabaseOptions.Section);

        var database = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        if (database.Provider == DatabaseProvider.Postgres)
        {
            builder.Services.AddPooledDbContextFactory<PostgresPortalDb>(o => o.UseNpgsql(PortalConnectionString(database.ConnectionString)).ConfigureWarnings(ErrorsToCallers));
            builder.Services.AddSingleton<IDbContextFactory<PortalDb>, PortalDbFactory<PostgresPortalDb>>();
        }
        else
        {
            builder.Services.AddPooledDbContextFactory<SqlitePortalDb>((sp, o) =>
                o.UseSqlite(database.ConnectionString ?? DefaultSqlite(sp.GetRequiredService<IOptions<PortalOptions>>().Value, builder.Environment))
                    .ConfigureWarnings(ErrorsToCallers));
            builder.Services.AddSingleton<IDbContextFactory<PortalDb>, PortalDbFactory<SqlitePortalDb>>();
        }

        builder.Services.AddHostedService<DatabaseInitializer>();
        builder.AddSharedDataProtection(database);
        return builder;
    }

    /// <summary>
    /// A failed command or save is the caller's to report: many are expected and handled (the unique index refusing a
    /// second "Join the queue", a slot name taken), and EF logging each as "fail:" with a stack trace made a handled
    /// race look like a crash. Unhandled ones still reach the log through whoever did not handle them.
    /// </summary>
    internal static void ErrorsToCallers(WarningsConfigurationBuilder warnings) =>
        warnings.Log((CoreEventId.SaveChangesFailed, LogLevel.Debug), (RelationalEventId.CommandError, LogLevel.Debug));

    /// <summary>
    /// The portal's own pool: each request opens a pooled connection several times, one short context per step.
    /// Npgsql would reset each connection's session state on every return to the pool (seven statements when
    /// statements are prepared), and PostgreSQL would parse and plan the same few queries over and over; the
    /// portal sets no session state (no SET, LISTEN or advisory locks on these connections), so it skips the reset
    /// and lets Npgsql prepare its frequent statements. A connection string that sets either keyword keeps its value.
    /// </summary>
    internal static string? PortalConnectionString(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            return configured; // the start-up validation says which setting is missing
        }

        var builder = new Npgsql.NpgsqlConnectionStringBuilder(configured);
        if (!configured.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase))
        {
            builder.NoResetOnClose = true;
        }

        if (!configured.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxAutoPrepare = 64;
        }

        return builder.ConnectionString;
    }

    public static string ResolveDataPath(this PortalOptions options, IHostEnvironment environment) =>
        Path.GetFullPath(Path.Combine(environment.ContentRootPath, options.DataPath));

    private static string DefaultSqlite(PortalOptions portal, IHostEnvironment environment)
    {
        var folder = portal.ResolveDataPath(environment);
        Directory.CreateDirectory(folder);
        return $"Data Source={Path.Combine(folder, "deployportal.db")}";
    }

    internal sealed class PortalDbFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<PortalDb>
        where TContext : PortalDb
    {
        public PortalDb CreateDbContext() => inner.CreateDbContext();
    }
}

using Microsoft.EntityFrameworkCore;
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
        builder.Services.AddOptions<PortalOptions>().BindConfiguration(PortalOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section)
            .Validate(o => o.Provider != DatabaseProvider.Postgres || !string.IsNullOrWhiteSpace(o.ConnectionString),
                "Database:ConnectionString is required when Database:Provider is Postgres.")
            .ValidateOnStart();

        var database = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        if (database.Provider == DatabaseProvider.Postgres)
        {
            builder.Services.AddPooledDbContextFactory<PostgresPortalDb>(o => o.UseNpgsql(database.ConnectionString));
            builder.Services.AddSingleton<IDbContextFactory<PortalDb>, PortalDbFactory<PostgresPortalDb>>();
        }
        else
        {
            builder.Services.AddPooledDbContextFactory<SqlitePortalDb>((sp, o) =>
                o.UseSqlite(database.ConnectionString ?? DefaultSqlite(sp.GetRequiredService<IOptions<PortalOptions>>().Value, builder.Environment)));
            builder.Services.AddSingleton<IDbContextFactory<PortalDb>, PortalDbFactory<SqlitePortalDb>>();
        }

        builder.Services.AddHostedService<DatabaseInitializer>();
        builder.AddSharedDataProtection(database);
        return builder;
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

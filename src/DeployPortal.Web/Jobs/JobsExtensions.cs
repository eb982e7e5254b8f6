using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;

namespace DeployPortal.Web.Jobs;

public static class JobsExtensions
{
    /// <summary>
    /// Hangfire with in-memory storage on the embedded default (the database stays the source of truth),
    /// or PostgreSQL storage with LISTEN/NOTIFY long polling so a job starts within milliseconds of being queued.
    /// </summary>
    public static WebApplicationBuilder AddJobs(this WebApplicationBuilder builder)
    {
        var database = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();

        // The storage is this host's own singleton. Hangfire would otherwise register JobStorage.Current, a
        // static that the last-configured host wins: two portals in one process (tests, or a host rebuilt in
        // place) would share one queue.
        builder.Services.AddSingleton<JobStorage>(_ =>
        {
            if (database.Provider != DatabaseProvider.Postgres)
            {
                return new InMemoryStorage();
            }

            var options = new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true, EnableLongPolling = true };
            return new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(database.ConnectionString!, options), options);
        });
        // Same for the activator: Hangfire would resolve JobActivator.Current, another static, so a job could be
        // built from another host's services (its database, its cluster).
        builder.Services.AddSingleton<JobActivator>(services => new Hangfire.AspNetCore.AspNetCoreJobActivator(services.GetRequiredService<IServiceScopeFactory>()));
        builder.Services.AddHangfire((services, config) =>
        {
            config.UseLogProvider(new DisposalTolerantLogProvider(services.GetRequiredService<ILoggerFactory>()));
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings()
                .UseStorage(services.GetRequiredService<JobStorage>());
        });
        builder.Services.AddHangfireServer(o =>
        {
            o.WorkerCount = Math.Max(4, Environment.ProcessorCount * 2);
            // Deployment take-overs after a crash are scheduled jobs; look for due ones every second, not every 15.
            o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
        });
        return builder;
    }

    /// <summary>The Hangfire dashboard at <c>/jobs</c>, for admins only.</summary>
    public static WebApplication MapJobsDashboard(this WebApplication app)
    {
        app.MapHangfireDashboardWithAuthorizationPolicy(Policies.Administer, "/jobs", new DashboardOptions
        {
            DashboardTitle = "DeployPortal jobs",
            AppPath = "/",
        });
        return app;
    }
}

/// <summary>
/// Hangfire keeps its log provider in a static. When two hosts share a process (the test suite, a host
/// restarted in place) and the one that set it last is disposed, every later logger request would throw
/// ObjectDisposedException inside Hangfire's workers and stop them; this provider goes quiet instead.
/// </summary>
internal sealed class DisposalTolerantLogProvider(ILoggerFactory loggerFactory) : Hangfire.Logging.ILogProvider
{
    private readonly Hangfire.AspNetCore.AspNetCoreLogProvider _inner = new(loggerFactory);

    public Hangfire.Logging.ILog GetLogger(string name)
    {
        try
        {
            return new TolerantLog(_inner.GetLogger(name));
        }
        catch (ObjectDisposedException)
        {
            return new TolerantLog(null);
        }
    }

    private sealed class TolerantLog(Hangfire.Logging.ILog? inner) : Hangfire.Logging.ILog
    {
        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            try
            {
                return inner?.Log(logLevel, messageFunc, exception) ?? false;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }
    }
}

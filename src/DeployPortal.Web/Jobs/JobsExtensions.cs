using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using Hangfire;
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
        builder.Services.AddHangfire(config =>
        {
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            if (database.Provider == DatabaseProvider.Postgres)
            {
                config.UsePostgreSqlStorage(o => o.UseNpgsqlConnection(database.ConnectionString),
                    new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true, EnableLongPolling = true });
            }
            else
            {
                config.UseInMemoryStorage();
            }
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

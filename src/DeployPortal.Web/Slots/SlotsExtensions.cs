using DeployPortal.Web.Audit;
using DeployPortal.Web.Notifications;
using Hangfire;

namespace DeployPortal.Web.Slots;

public static class SlotsExtensions
{
    public static WebApplicationBuilder AddSlots(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<HoldOptions, HoldOptionsValidator>().BindConfiguration(HoldOptions.Section);
        builder.Services.AddSingleton<SlotChangeNotifier>();
        builder.AddSlotChangeFanOut();
        builder.Services.AddSingleton<BoardSnapshot>();
        builder.Services.AddSingleton<BoardClock>();
        builder.Services.AddSingleton<PortalEvents>();
        builder.Services.AddSingleton<SlotNamespaces>();
        builder.Services.AddScoped<Refusals>();
        builder.Services.AddScoped<HoldLedger>();
        builder.Services.AddScoped<HoldCap>();
        builder.Services.AddScoped<HoldEndings>();
        builder.Services.AddScoped<HoldActions>();
        builder.Services.AddScoped<HoldSweep>();
        builder.Services.AddScoped<SlotAdmin>();
        builder.Services.AddScoped<BoardQueries>();
        builder.Services.AddScoped<HoldEndQueries>();
        builder.Services.AddScoped<AuditQueries>();
        builder.Services.AddScoped<HoldExpiryJob>();
        builder.Services.AddOptionsWithValidateOnStart<IdleOptions, IdleOptionsValidator>().BindConfiguration(IdleOptions.Section);
        builder.Services.AddScoped<IdleSlots>();
        builder.Services.AddScoped<IdleGiveBack>();
        builder.Services.AddScoped<SlotSleepJob>();
        builder.Services.AddScoped<IdleSleep>();
        builder.Services.AddScoped<WakeOnAccess>();
        builder.Services.AddOptionsWithValidateOnStart<ElasticOptions, ElasticOptionsValidator>().BindConfiguration(ElasticOptions.Section);
        builder.Services.AddScoped<ElasticBudgets>();
        builder.Services.AddScoped<ElasticPool>();
        builder.Services.AddScoped<ElasticReaper>();
        return builder;
    }

    public static WebApplication MapSlotJobs(this WebApplication app)
    {
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<HoldExpiryJob>(HoldExpiryJob.Id, job => job.RunAsync(CancellationToken.None), Cron.Minutely());
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<IdleGiveBack>("end-idle-holds", idle => idle.RunAsync(CancellationToken.None), Cron.Minutely());
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<IdleSleep>(IdleSleep.JobId, sleep => sleep.RunAsync(CancellationToken.None), Cron.Minutely());
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<ElasticReaper>(ElasticReaper.JobId, reaper => reaper.RunAsync(CancellationToken.None), Cron.Minutely());
        return app;
    }
}

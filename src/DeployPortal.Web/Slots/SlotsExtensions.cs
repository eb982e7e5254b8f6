using DeployPortal.Web.Audit;
using DeployPortal.Web.Notifications;
using Hangfire;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

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
        builder.Services.AddOptionsWithValidateOnStart<IdleOptions, IdleOptionsValidator>().BindConfiguration(IdleOptions.Section)
            .PostConfigure<IOptionsMonitor<ActivityOptions>>((idle, activity) => idle.AppTrafficRead = activity.CurrentValue.Prometheus.Url is not null);
        builder.Services.AddScoped<IdleSlots>();
        builder.Services.AddScoped<IdleGiveBack>();
        builder.Services.AddScoped<SlotSleepJob>();
        builder.Services.AddSingleton<ClusterHoldScaling>();
        builder.Services.AddScoped<IdleSleep>();
        builder.Services.AddScoped<WakeOnAccess>();
        builder.Services.AddOptionsWithValidateOnStart<ElasticOptions, ElasticOptionsValidator>().BindConfiguration(ElasticOptions.Section);
        builder.Services.AddScoped<ElasticBudgets>();
        builder.Services.AddScoped<ElasticPool>();
        builder.Services.AddScoped<ElasticReaper>();
        builder.Services.AddOptionsWithValidateOnStart<ActivityOptions, ActivityOptionsValidator>().BindConfiguration(ActivityOptions.Section);
        builder.Services.AddScoped<AppTrafficPoll>();
        builder.Services.AddHttpClient(AppTrafficPoll.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler("prometheus-activity", (pipeline, context) =>
            {
                pipeline.TimeProvider = TimeProvider.System; // network time, whatever clock the portal is given
                // Retries 5xx, 408, 429, refused connections and attempt timeouts once; a 4xx (a bad query) is an answer.
                pipeline.AddRetry(new HttpRetryStrategyOptions { MaxRetryAttempts = 1, Delay = TimeSpan.FromMilliseconds(200), UseJitter = true });
                pipeline.AddTimeout(context.ServiceProvider.GetRequiredService<IOptions<ActivityOptions>>().Value.Prometheus.Timeout);
            });
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
        var pollEvery = (int)app.Services.GetRequiredService<IOptions<ActivityOptions>>().Value.Prometheus.PollEvery.TotalMinutes;
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<AppTrafficPoll>(AppTrafficPoll.JobId, poll => poll.RunAsync(CancellationToken.None), pollEvery >= 60 ? Cron.Hourly() : $"*/{pollEvery} * * * *");
        return app;
    }
}

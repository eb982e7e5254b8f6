using DeployPortal.Web.Audit;
using DeployPortal.Web.Notifications;
using Hangfire;

namespace DeployPortal.Web.Slots;

public static class SlotsExtensions
{
    public static WebApplicationBuilder AddSlots(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<HoldOptions>().BindConfiguration(HoldOptions.Section)
            .Validate(o => o.DefaultDuration > TimeSpan.Zero && o.DefaultDuration <= o.MaxDuration, "Holds:DefaultDuration must be positive and at most Holds:MaxDuration.")
            .Validate(o => o.MinDuration > TimeSpan.Zero && o.MinDuration <= o.DefaultDuration, "Holds:MinDuration must be positive and at most Holds:DefaultDuration.")
            .Validate(o => o.MaxDuration <= o.HardMaxTotal, "Holds:HardMaxTotal must be at least Holds:MaxDuration.")
            .Validate(o => o.RemindBefore >= TimeSpan.Zero && o.RemindBefore < o.DefaultDuration, "Holds:RemindBefore must be zero or more and shorter than Holds:DefaultDuration.")
            .Validate(o => o.MaxHeldPerPerson is null or > 0 && o.MaxHeldPerRole.Values.All(v => v > 0), "Holds:MaxHeldPerPerson and Holds:MaxHeldPerRole must be positive.")
            .ValidateOnStart();
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
        builder.Services.AddScoped<AuditQueries>();
        builder.Services.AddScoped<HoldExpiryJob>();
        builder.Services.AddOptions<IdleOptions>().BindConfiguration(IdleOptions.Section)
            .Validate(o => o.After > TimeSpan.Zero && (o.ReleaseAfter is null || o.ReleaseAfter > TimeSpan.Zero), "Idle:After and Idle:ReleaseAfter must be positive.")
            .Validate(o => o.AnswerWithin > TimeSpan.Zero && o.AskWhenQueuedAfter > TimeSpan.Zero && o.AnswerWithinWhenQueued > TimeSpan.Zero,
                "Idle:AnswerWithin, Idle:AskWhenQueuedAfter and Idle:AnswerWithinWhenQueued must be positive.")
            .ValidateOnStart();
        builder.Services.AddScoped<IdleSlots>();
        builder.Services.AddScoped<IdleGiveBack>();
        builder.Services.AddScoped<SlotSleepJob>();
        return builder;
    }

    public static WebApplication MapSlotJobs(this WebApplication app)
    {
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<HoldExpiryJob>(HoldExpiryJob.Id, job => job.RunAsync(CancellationToken.None), Cron.Minutely());
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<IdleGiveBack>("end-idle-holds", idle => idle.RunAsync(CancellationToken.None), Cron.Minutely());
        return app;
    }
}

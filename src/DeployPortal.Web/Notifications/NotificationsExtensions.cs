using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace DeployPortal.Web.Notifications;

public static class NotificationsExtensions
{
    /// <summary>
    /// Webhook receivers from <c>Notifications</c>, the delivery job and its HTTP client, and the per-person
    /// opt-out. (<see cref="PortalEvents"/> itself is registered with the slots, which raise most events.)
    /// </summary>
    public static WebApplicationBuilder AddNotifications(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<NotificationOptions, NotificationOptionsValidator>().BindConfiguration(NotificationOptions.Section);

        builder.Services.AddSingleton<NotificationPreferences>();
        builder.Services.AddScoped<WebhookJob>();
        builder.Services.AddHttpClient(WebhookJob.HttpClientName, client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan; // the pipeline below bounds each attempt
                client.DefaultRequestHeaders.UserAgent.ParseAdd("DeployPortal-Webhooks/1");
            })
            .AddResilienceHandler("webhook", (pipeline, context) =>
            {
                // Attempts and their timeouts are network time: the real clock, even where the portal is given another
                // (a test moving a fake clock would otherwise time out a delivery in flight).
                pipeline.TimeProvider = TimeProvider.System;
                var o = context.ServiceProvider.GetRequiredService<IOptions<NotificationOptions>>().Value;
                if (o.Retries > 0)
                {
                    // Retries 5xx, 408, 429, refused connections and attempt timeouts.
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = o.Retries,
                        Delay = o.RetryDelay,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                    });
                }

                pipeline.AddTimeout(o.Timeout);
            });
        return builder;
    }
}

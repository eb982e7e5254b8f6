using System.Net;
using Hangfire;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Notifications;

/// <summary>
/// Delivers one event to one receiver. Two layers of retry: the HTTP client retries quickly inside the job
/// (a blip, a 502 while the receiver restarts), each attempt bounded by <c>Notifications:Timeout</c>; when
/// those are spent the job fails and Hangfire tries again later, with delays that survive a restart when
/// job storage is PostgreSQL. Running it twice sends the same delivery id twice, which receivers can drop.
/// </summary>
internal sealed class WebhookJob(
    IHttpClientFactory httpClients,
    IOptionsMonitor<NotificationOptions> options,
    NotificationPreferences preferences,
    TimeProvider time,
    ILogger<WebhookJob> logger)
{
    public const string HttpClientName = "webhooks";

    // About 10 hours of patience for a receiver that is down; then the job stays failed on /jobs for an admin.
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [60, 300, 1800, 7200, 28800], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public async Task DeliverAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var receiver = settings.Webhooks.FirstOrDefault(w => string.Equals(w.Name, delivery.Receiver, StringComparison.OrdinalIgnoreCase));
        if (receiver?.Url is null || !receiver.Wants(delivery.Event.Kind))
        {
            logger.LogInformation("Webhook {Receiver} is no longer configured for {Kind}; delivery {Id} dropped", delivery.Receiver, delivery.Event.Kind, delivery.Id);
            return;
        }

        if (delivery.Event.UserId is { } userId && await preferences.IsOptedOutAsync(userId, delivery.Event.Kind, cancellationToken))
        {
            logger.LogDebug("{User} opted out of {Kind}; delivery {Id} skipped", userId, delivery.Event.Kind, delivery.Id);
            return;
        }

        using var request = WebhookMessages.Build(receiver, delivery, settings.PublicUrl, time.GetUtcNow());
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var answer = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        if (IsPermanent(response.StatusCode))
        {
            // Asking again will not help (a revoked Slack hook answers 404 or 410, a bad body 400).
            logger.LogWarning("Webhook {Receiver} refused delivery {Id} ({Kind}) with {Answer}; not retried", receiver.Name, delivery.Id, delivery.Event.Kind, answer);
            return;
        }

        throw new WebhookDeliveryException($"Webhook {receiver.Name} answered {answer} to delivery {delivery.Id}.");
    }

    private static bool IsPermanent(HttpStatusCode status) =>
        (int)status is >= 400 and < 500 && status is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests);
}

/// <summary>A receiver did not take a delivery; Hangfire retries it later.</summary>
internal sealed class WebhookDeliveryException(string message) : Exception(message);

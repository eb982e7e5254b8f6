using Hangfire;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Notifications;

/// <summary>What happened, for the people who asked to be told (webhooks, and later other channels).</summary>
public enum PortalEventKind
{
    DeploySucceeded,
    DeployFailed,
    HoldExpiring,
    HoldExpired,
    SlotReleased,
    WaitlistTurn,

    /// <summary>The image a deployment waited for was pushed, and the deployment started.</summary>
    ImageBuilt,
}

/// <summary>
/// One notification-worthy event. <paramref name="UserId"/> is the person it is about (the holder, the
/// requester, the person whose turn it is), so their opt-out can be honoured; <paramref name="Link"/> is a
/// path inside the portal (e.g. <c>/deployments/42</c>).
/// </summary>
internal sealed record PortalEvent(PortalEventKind Kind, string Slot, string? UserId, string? UserName, string Text, string? Link = null);

/// <summary>
/// The one place features raise notification events. Raising never blocks or fails the action that raised
/// it: call it after the action's transaction has committed. Each receiver that wants the event gets its
/// own delivery job, so a slow or broken receiver delays nobody else; whether the person the event is about
/// opted out is decided by the job (it needs the database, and Raise must stay synchronous and cheap).
/// </summary>
internal sealed class PortalEvents(IBackgroundJobClient jobs, IOptionsMonitor<NotificationOptions> options, TimeProvider clock, ILogger<PortalEvents> logger)
{
    public void Raise(PortalEvent e)
    {
        logger.LogDebug("Portal event {Kind} on {Slot}: {Text}", e.Kind, e.Slot, e.Text);
        foreach (var receiver in options.CurrentValue.Webhooks)
        {
            if (!receiver.Wants(e.Kind))
            {
                continue;
            }

            // The delivery id stays the same across retries, so a receiver can drop a repeat (a retry after a
            // lost answer, or a job run twice).
            var delivery = new WebhookDelivery(Guid.NewGuid().ToString("N"), receiver.Name, clock.GetUtcNow().UtcDateTime, e);
            try
            {
                jobs.Enqueue<WebhookJob>(job => job.DeliverAsync(delivery, CancellationToken.None));
            }
            catch (Exception ex)
            {
                // Job storage unreachable: the notification is lost, the action it reports is not.
                logger.LogWarning(ex, "Could not queue {Kind} for webhook {Receiver}", e.Kind, receiver.Name);
            }
        }
    }
}

/// <summary>One event on its way to one receiver: the argument of a <see cref="WebhookJob"/>.</summary>
internal sealed record WebhookDelivery(string Id, string Receiver, DateTime At, PortalEvent Event);

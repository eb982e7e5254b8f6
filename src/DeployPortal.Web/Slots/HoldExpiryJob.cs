using DeployPortal.Web.Waitlist;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Recurring Hangfire job, every minute: reminds holders whose hold ends soon, releases holds past their end
/// (handing each freed slot to the queue), and offers any free slot to the queue (a sweep that covers a crash
/// between a release and its hand-over). Every step is idempotent, so overlapping runs are harmless.
/// </summary>
internal sealed class HoldExpiryJob(HoldSweep sweep, WaitlistHandover handover)
{
    public const string Id = "expire-holds";

    /// <summary>Returns how many holds expired.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await sweep.RemindDueHoldsAsync(cancellationToken);
        var expired = await sweep.ExpireDueHoldsAsync(cancellationToken);
        await handover.OfferFreeSlotsAsync(cancellationToken);
        return expired;
    }
}

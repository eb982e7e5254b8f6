namespace DeployPortal.Web.Slots;

/// <summary>Recurring Hangfire job: releases holds past their end. Idempotent, so overlapping runs are harmless.</summary>
public sealed class HoldExpiryJob(SlotService slots)
{
    public const string Id = "expire-holds";

    public Task<int> RunAsync(CancellationToken cancellationToken) => slots.ExpireDueHoldsAsync(cancellationToken);
}

using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// What an open board shows and when it changes: the shared snapshot of the slots, slot changes and clock ticks to
/// subscribe to, the board's time, and the settings every card of a board shares (<see cref="SlotCardContext"/>).
/// One for the whole portal: every piece is shared, so an open board pays for none of it.
/// </summary>
internal sealed class BoardFeed(
    IDbContextFactory<PortalDb> dbFactory,
    BoardSnapshot snapshot,
    SlotChangeNotifier notifier,
    BoardClock clock,
    TimeProvider time,
    IOptionsMonitor<HoldOptions> holds,
    IOptionsMonitor<IdleOptions> idle)
{
    public Task<IReadOnlyList<SlotCard>> ReadAsync(CancellationToken ct) => snapshot.GetAsync(ct);

    /// <summary>Nothing was ever deployed here: the board offers its one-time "try this" card.</summary>
    public async Task<bool> HistoryEmptyAsync(CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        return !await db.Deployments.AnyAsync(ct);
    }

    /// <summary>Live updates are not reaching the boards: the database or the live feed is down.</summary>
    public bool LivePaused => notifier.LivePaused;

    public IDisposable OnChange(Func<Func<Task>, Task> invoke, Func<SlotChange, Task> handler) => notifier.SubscribeComponent(invoke, handler);

    public IDisposable OnTick(Action tick) => clock.Subscribe(tick);

    public DateTime UtcNow => time.GetUtcNow().UtcDateTime;

    /// <summary>How long before its end a hold shows as expiring.</summary>
    public TimeSpan WarnBefore => holds.CurrentValue.WarnBefore;

    public TimeSpan DefaultDuration => holds.CurrentValue.DefaultDuration;

    /// <summary>The hold lengths a person may pick: the configured choices up to the longest hold.</summary>
    public IReadOnlyList<TimeSpan> HoldChoices()
    {
        var options = holds.CurrentValue;
        return [.. options.Choices.Where(c => c <= options.MaxDuration)];
    }

    /// <summary>What every card of one person's board shares, with the board's time set to now.</summary>
    public SlotCardContext CardContext(TimeZoneInfo? zone, bool canWake, IReadOnlyList<TimeSpan> holdChoices, EventCallback<SlotCardRequest> onCommand)
    {
        var (options, idleOptions) = (holds.CurrentValue, idle.CurrentValue);
        var giveBack = idleOptions.GiveBack;
        return new SlotCardContext(UtcNow, zone, options.RemindBefore, idleOptions.After, giveBack?.ReleaseAfter, giveBack?.AskWhenQueuedAfter ?? default,
            idleOptions.AllowSleep, canWake,
            (slot, now) => ExtendChoices(slot, holdChoices, now), onCommand);
    }

    /// <summary>How much longer <paramref name="slot"/>'s hold may be made now (My work's Extend menu).</summary>
    public IReadOnlyList<TimeSpan> ExtendChoices(SlotCard slot) => ExtendChoices(slot, HoldChoices(), UtcNow);

    private IReadOnlyList<TimeSpan> ExtendChoices(SlotCard slot, IReadOnlyList<TimeSpan> holdChoices, DateTime now)
    {
        if (slot.Hold is null)
        {
            return [];
        }

        var room = holds.CurrentValue.RoomToExtend(slot.Hold.Since, slot.Hold.Until, now);
        return [.. holdChoices.Where(c => c <= room)];
    }
}

namespace DeployPortal.Web.Waitlist;

/// <summary>
/// Positions and expected waits for the queue, from recent hold lengths.
/// <para>
/// How: the typical hold is the median length (claim to release) of recently ended holds, so one forgotten
/// hold does not skew it. Each enabled slot is expected to free at: now if free; otherwise a typical hold
/// after its claim, but not before now and not after the hold's end. The queue is then replayed in join
/// order: each entry takes the fitting slot that frees first, its wait is that time minus now, and that slot
/// is expected to free again a typical hold later (the entry's own hold). It is an estimate: people release
/// early, extend and renew; the hand-over itself does not use it.
/// </para>
/// </summary>
public static class WaitEstimator
{
    public sealed record SlotNow(int Id, bool Enabled, DateTime? HeldSince, DateTime? HeldUntil);

    public sealed record Waiter(long Id, int? SlotId);

    public sealed record Estimate(long Id, int Position, TimeSpan? Wait);

    /// <summary>The median of <paramref name="lengths"/>, or <paramref name="fallback"/> when there are too few to trust.</summary>
    public static TimeSpan TypicalHold(IReadOnlyList<TimeSpan> lengths, TimeSpan fallback, int minimumSample = 5)
    {
        if (lengths.Count < minimumSample)
        {
            return fallback;
        }

        var sorted = lengths.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <param name="waiters">Waiting entries in queue (join) order.</param>
    public static IReadOnlyList<Estimate> Replay(DateTime now, TimeSpan typicalHold, IReadOnlyList<SlotNow> slots, IReadOnlyList<Waiter> waiters)
    {
        var freeAt = new Dictionary<int, DateTime>();
        foreach (var slot in slots.Where(s => s.Enabled))
        {
            freeAt[slot.Id] = slot switch
            {
                { HeldSince: { } since, HeldUntil: { } until } => Clamp(since + typicalHold, now, until < now ? now : until),
                _ => now,
            };
        }

        var result = new List<Estimate>(waiters.Count);
        for (var i = 0; i < waiters.Count; i++)
        {
            var waiter = waiters[i];
            // Ahead of you: earlier entries that could take a slot you could take (any competes with everyone).
            var position = 1 + waiters.Take(i).Count(w => w.SlotId is null || waiter.SlotId is null || w.SlotId == waiter.SlotId);
            var candidates = freeAt.Where(f => waiter.SlotId is null || f.Key == waiter.SlotId).ToList();
            if (candidates.Count == 0)
            {
                result.Add(new Estimate(waiter.Id, position, null));
                continue;
            }

            var (slotId, at) = candidates.MinBy(f => (f.Value, f.Key));
            result.Add(new Estimate(waiter.Id, position, at - now));
            freeAt[slotId] = at + typicalHold;
        }

        return result;
    }

    private static DateTime Clamp(DateTime value, DateTime min, DateTime max) => value < min ? min : value > max ? max : value;
}

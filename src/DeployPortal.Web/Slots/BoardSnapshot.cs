namespace DeployPortal.Web.Slots;

/// <summary>
/// The board as every open board page shows it, read from the database once per change rather than once
/// per open page. Every board page reloads when a slot changes; with thousands of pages open that was
/// thousands of identical three-query reads per change, queued on the connection pool (see README,
/// Benchmarks). A read is reused while no change has been published since it started (the notifier's
/// <see cref="SlotChangeNotifier.Version"/>) and it is younger than <see cref="MaxAge"/>, which bounds how
/// long a write that was never published here (another replica, a hand edit) can go unseen. Concurrent
/// readers of a stale board share one read. The cards hold nothing per user: what a person may do with a
/// slot is still decided per page by <see cref="SlotActions"/> and, on every action, by the services that act (<see cref="HoldActions"/>, <see cref="SlotAdmin"/>).
/// </summary>
internal sealed class BoardSnapshot
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private readonly IServiceScopeFactory _scopes;
    private readonly SlotChangeNotifier _notifier;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private Snapshot? _current;
    private Task<Snapshot>? _reading;
    private long _readingVersion;

    public BoardSnapshot(IServiceScopeFactory scopes, SlotChangeNotifier notifier, TimeProvider clock)
    {
        (_scopes, _notifier, _clock) = (scopes, notifier, clock);
        // Each change's read starts before the open boards hear of it, so they find it done: a board then updates without
        // awaiting (no continuation to queue back onto each of thousands of circuits) and the read is not queued behind them.
        notifier.PrepareWith(() => GetAsync());
    }

    /// <summary>Database reads so far (for tests and benchmarks).</summary>
    public int Reads => Volatile.Read(ref _reads);

    private int _reads;

    /// <summary>
    /// The board. Every page that finds the last read stale awaits the same read, started by the first of them: with
    /// thousands of boards reloading on one change they all continue when it completes, rather than one after another.
    /// </summary>
    public async Task<IReadOnlyList<SlotCard>> GetAsync(CancellationToken ct = default)
    {
        if (Fresh(Volatile.Read(ref _current)) is { } cards)
        {
            return cards;
        }

        Task<Snapshot> reading;
        lock (_gate)
        {
            if (Fresh(_current) is { } again)
            {
                return again;
            }

            // Taken before the read: a change published while reading makes this result stale at once. A read that
            // has completed and is still not fresh failed or aged out, so it is not reused.
            var version = _notifier.Version;
            if (_reading is null || _readingVersion != version || _reading.IsCompleted)
            {
                _readingVersion = version;
                _reading = ReadAsync(version);
            }

            reading = _reading;
        }

        // One page giving up (navigating away) stops its wait, not the read the others share.
        return (await reading.WaitAsync(ct)).Cards;
    }

    private async Task<Snapshot> ReadAsync(long version)
    {
        await Task.Yield(); // not under the caller's lock
        var readAt = _clock.GetUtcNow();
        await using var scope = _scopes.CreateAsyncScope();
        var cards = await scope.ServiceProvider.GetRequiredService<BoardQueries>().GetBoardAsync();
        Interlocked.Increment(ref _reads);
        lock (_gate)
        {
            // A card that did not change keeps its instance: every open board then compares it by reference, and the
            // markup built for it (SlotCardView) stays shared instead of being built again for the new read.
            var read = new Snapshot(version, readAt, KeepUnchanged(cards, _current?.Cards));
            if (_current is null || _current.Version <= version)
            {
                _current = read;
            }

            return read;
        }
    }

    private static IReadOnlyList<SlotCard> KeepUnchanged(IReadOnlyList<SlotCard> cards, IReadOnlyList<SlotCard>? before)
    {
        if (before is null)
        {
            return cards;
        }

        var byId = before.ToDictionary(c => c.Id);
        return [.. cards.Select(c => byId.TryGetValue(c.Id, out var old) && old.Equals(c) ? old : c)];
    }

    private IReadOnlyList<SlotCard>? Fresh(Snapshot? snapshot) =>
        snapshot is not null && snapshot.Version == _notifier.Version && _clock.GetUtcNow() - snapshot.ReadAt < MaxAge ? snapshot.Cards : null;

    private sealed record Snapshot(long Version, DateTimeOffset ReadAt, IReadOnlyList<SlotCard> Cards);
}

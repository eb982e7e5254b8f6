namespace DeployPortal.Web.Slots;

/// <summary>
/// The board as every open board page shows it, read from the database once per change rather than once
/// per open page. Every board page reloads when a slot changes; with thousands of pages open that was
/// thousands of identical three-query reads per change, queued on the connection pool (see README,
/// Benchmarks). A read is reused while no change has been published since it started (the notifier's
/// <see cref="SlotChangeNotifier.Version"/>) and it is younger than <see cref="MaxAge"/>, which bounds how
/// long a write that was never published here (another replica, a hand edit) can go unseen. Concurrent
/// readers of a stale board wait for one read. The cards hold nothing per user: what a person may do with a
/// slot is still decided per page by <see cref="SlotActions"/> and, on every action, by <see cref="SlotService"/>.
/// </summary>
public sealed class BoardSnapshot(IServiceScopeFactory scopes, SlotChangeNotifier notifier, TimeProvider clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _reading = new(1, 1);
    private Snapshot? _current;

    /// <summary>Database reads so far (for tests and benchmarks).</summary>
    public int Reads => Volatile.Read(ref _reads);

    private int _reads;

    public async Task<IReadOnlyList<SlotCard>> GetAsync(CancellationToken ct = default)
    {
        if (Fresh(Volatile.Read(ref _current)) is { } cards)
        {
            return cards;
        }

        await _reading.WaitAsync(ct);
        try
        {
            if (Fresh(_current) is { } again)
            {
                return again; // another page read it while this one waited
            }

            // Taken before the read: a change published while reading makes this result stale at once.
            var version = notifier.Version;
            var readAt = clock.GetUtcNow();
            await using var scope = scopes.CreateAsyncScope();
            var read = await scope.ServiceProvider.GetRequiredService<SlotService>().GetBoardAsync(ct);
            Interlocked.Increment(ref _reads);
            Volatile.Write(ref _current, new Snapshot(version, readAt, read));
            return read;
        }
        finally
        {
            _reading.Release();
        }
    }

    private IReadOnlyList<SlotCard>? Fresh(Snapshot? snapshot) =>
        snapshot is not null && snapshot.Version == notifier.Version && clock.GetUtcNow() - snapshot.ReadAt < MaxAge ? snapshot.Cards : null;

    private sealed record Snapshot(long Version, DateTimeOffset ReadAt, IReadOnlyList<SlotCard> Cards);
}

using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace DeployPortal.Web.Tests.Slots;

/// <summary>The shared board read: one database read per change for all open pages, never a stale board after a change.</summary>
public sealed class BoardSnapshotTests : IAsyncLifetime
{
    private SlotHarness _harness = default!;
    private ServiceProvider _services = default!;
    private BoardSnapshot _board = default!;

    public async Task InitializeAsync()
    {
        _harness = await SlotHarness.CreateAsync(DatabaseProvider.Sqlite);
        _services = new ServiceCollection()
            .AddScoped(_ => _harness.Board)
            .AddSingleton(_harness.Notifier)
            .AddSingleton<TimeProvider>(_harness.Clock)
            .AddSingleton<BoardSnapshot>()
            .BuildServiceProvider();
        _board = _services.GetRequiredService<BoardSnapshot>();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _harness.DisposeAsync();
    }

    [Fact]
    public async Task ManyPagesReloadingAtOnce_ReadTheDatabaseOnce()
    {
        await _harness.AddSlotAsync("qa-1");

        var boards = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _board.GetAsync()));

        Assert.Equal(1, _board.Reads);
        Assert.All(boards, b => Assert.Equal("qa-1", Assert.Single(b).Name));
    }

    [Fact]
    public async Task AfterAClaim_TheNextReadShowsTheHold()
    {
        var slot = await _harness.AddSlotAsync("qa-1");
        Assert.Null(Assert.Single(await _board.GetAsync()).Hold);

        var claimed = await _harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null));
        Assert.True(claimed.Succeeded);

        Assert.Equal("payment test", Assert.Single(await _board.GetAsync()).Hold?.Purpose);
        Assert.Equal(2, _board.Reads);
    }

    [Fact]
    public async Task ANewRead_KeepsTheCardsOfSlotsThatDidNotChange_AndReplacesTheOneThatDid()
    {
        var quiet = await _harness.AddSlotAsync("qa-1");
        var claimed = await _harness.AddSlotAsync("qa-2");
        var before = await _board.GetAsync();

        await _harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(claimed.Id, "payment test", null));
        var after = await _board.GetAsync();

        Assert.Equal(2, _board.Reads);
        Assert.Same(before.Single(c => c.Id == quiet.Id), after.Single(c => c.Id == quiet.Id));
        Assert.NotSame(before.Single(c => c.Id == claimed.Id), after.Single(c => c.Id == claimed.Id));
        Assert.Equal("payment test", after.Single(c => c.Id == claimed.Id).Hold?.Purpose);
    }

    [Fact]
    public async Task APageReloadingOnAChange_SeesThatChange()
    {
        var slot = await _harness.AddSlotAsync("qa-1");
        await _board.GetAsync();
        var seen = new TaskCompletionSource<string?>();
        using var subscription = _harness.Notifier.Subscribe(async _ => seen.TrySetResult(Assert.Single(await _board.GetAsync()).Hold?.Purpose));

        await _harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null));

        Assert.Equal("payment test", await seen.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AChange_IsReadOnceBeforeOpenPagesHear_SoTheyFindItReady()
    {
        var slot = await _harness.AddSlotAsync("qa-1");
        await _board.GetAsync();
        var seen = new TaskCompletionSource<(bool Ready, string? Purpose)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = _harness.Notifier.Subscribe(async _ =>
        {
            var reload = _board.GetAsync();
            seen.TrySetResult((reload.IsCompletedSuccessfully, Assert.Single(await reload).Hold?.Purpose));
        });

        await _harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null));

        // Ready when the page asks: no page awaits the read, so thousands of boards update without queueing a continuation each.
        Assert.Equal((true, "payment test"), await seen.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, _board.Reads);
    }

    [Fact]
    public async Task AWriteNobodyPublished_ShowsOnceTheReadIsOlderThanMaxAge()
    {
        await _harness.AddSlotAsync("qa-1");
        await _board.GetAsync();
        await _harness.AddSlotAsync("qa-2"); // e.g. another replica's write, whose notification never came here

        Assert.Single(await _board.GetAsync());
        _harness.Clock.Advance(BoardSnapshot.MaxAge);
        Assert.Equal(2, (await _board.GetAsync()).Count);
    }

    [Fact]
    public async Task AFailedRead_IsNotKept_TheNextPageReadsAgain()
    {
        await _harness.AddSlotAsync("qa-1");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _board.GetAsync(cancelled.Token));

        Assert.Single(await _board.GetAsync());
    }
}

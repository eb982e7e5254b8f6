using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Slots;

public sealed class SqliteBoardOrderAndVerdictTests() : BoardOrderAndVerdictTests(DatabaseProvider.Sqlite);

public sealed class PostgresBoardOrderAndVerdictTests() : BoardOrderAndVerdictTests(DatabaseProvider.Postgres);

/// <summary>Issue 22: an order admins set on the board (natural order as tie-break), and QA's verdict on a free slot's card.</summary>
public abstract class BoardOrderAndVerdictTests(DatabaseProvider provider) : IAsyncLifetime
{
    private SlotHarness _h = default!;

    public async Task InitializeAsync() => _h = await SlotHarness.CreateAsync(provider);

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private async Task<List<string>> NamesAsync() => [.. (await _h.Board.GetBoardAsync()).Select(s => s.Name)];

    [Fact]
    public async Task Positions_SetByAnAdmin_ComeFirst_ThenNaturalOrder()
    {
        foreach (var name in new[] { "qa-10", "qa-2", "qa-1", "qa-3" })
        {
            await _h.AddSlotAsync(name);
        }

        var board = await _h.Board.GetBoardAsync();
        var qa10 = board.Single(s => s.Name == "qa-10");
        var qa3 = board.Single(s => s.Name == "qa-3");
        var first = await _h.Admin.EditSlotAsync(TestUsers.Ada, qa10.Id, new SlotEdit("qa-10", "qa-10", "", "", Position: 1));
        var second = await _h.Admin.EditSlotAsync(TestUsers.Ada, qa3.Id, new SlotEdit("qa-3", "qa-3", "", "", Position: 2));

        Assert.True(first.Succeeded && second.Succeeded, first.Failure?.Message ?? second.Failure?.Message);
        Assert.Equal(["qa-10", "qa-3", "qa-1", "qa-2"], await NamesAsync());
        Assert.Equal(1, (await _h.Board.GetBoardAsync())[0].Position);

        await _h.Admin.EditSlotAsync(TestUsers.Ada, qa10.Id, new SlotEdit("qa-10", "qa-10", "", "", Position: null));
        Assert.Equal(["qa-3", "qa-1", "qa-2", "qa-10"], await NamesAsync());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(10_000)]
    public async Task APositionOutOfRange_IsRefusedClearly_AndChangesNothing(int position)
    {
        var slot = await _h.AddSlotAsync("qa-1");

        var result = await _h.Admin.EditSlotAsync(TestUsers.Ada, slot.Id, new SlotEdit("qa-1", "qa-1", "edited", "", position));

        Assert.Equal(FailureKind.Invalid, result.Failure?.Kind);
        Assert.Contains("1 to 9999", result.Failure!.Message);
        var card = Assert.Single(await _h.Board.GetBoardAsync());
        Assert.Equal((null, ""), (card.Position, card.Description));
    }

    [Fact]
    public async Task OnlyAnAdmin_SetsAPosition()
    {
        var slot = await _h.AddSlotAsync("qa-1");

        var result = await _h.Admin.EditSlotAsync(TestUsers.Dana, slot.Id, new SlotEdit("qa-1", "qa-1", "", "", 1));

        Assert.Equal(FailureKind.Forbidden, result.Failure?.Kind);
        Assert.Null(Assert.Single(await _h.Board.GetBoardAsync()).Position);
    }

    [Fact]
    public async Task QaVerdict_ShowsOnTheFreeCard_UntilTheSlotIsClaimedAgain()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var hold = (await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "checkout", null))).Value!;

        var released = await _h.Actions.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(slot.Id, hold.Id, QaOutcome.Fail, "  checkout button missing "));

        Assert.True(released.Succeeded, released.Failure?.Message);
        var verdict = Assert.Single(await _h.Board.GetBoardAsync()).LastVerdict;
        Assert.NotNull(verdict);
        Assert.Equal((QaOutcome.Fail, "checkout button missing", "Quinn QA", "Dana Developer"), (verdict.Outcome, verdict.Note, verdict.ByName, verdict.HolderName));

        await _h.Actions.ClaimAsync(TestUsers.Devon, new ClaimRequest(slot.Id, "next test", null));
        Assert.Null(Assert.Single(await _h.Board.GetBoardAsync()).LastVerdict);
    }

    [Fact]
    public async Task APlainRelease_ShowsNoVerdict_EvenAfterAnEarlierQaOne()
    {
        var slot = await _h.AddSlotAsync("qa-1");
        var first = (await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "one", null))).Value!;
        await _h.Actions.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(slot.Id, first.Id, QaOutcome.Pass));
        var second = (await _h.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "two", null))).Value!;

        await _h.Actions.ReleaseAsync(TestUsers.Dana, new ReleaseRequest(slot.Id, second.Id));

        Assert.Null(Assert.Single(await _h.Board.GetBoardAsync()).LastVerdict);
    }
}

using System.Security.Claims;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace DeployPortal.Web.Components.Pages.Me;

/// <summary>
/// One person's work in one place: the slots they hold (extend, release), their queue entries, their deployments
/// and how QA judged their holds. Reads again on every slot change, so a QA verdict shows up while it is open.
/// </summary>
public sealed partial class MyWork : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private ClaimsPrincipal _user = new();
    private string _me = "";
    private IReadOnlyList<SlotCard> _holds = [];
    private IReadOnlyList<HoldEnd> _news = [];
    private IReadOnlyList<MyDeploymentRow> _deployments = [];
    private bool _loaded;
    private string? _error;

    [Inject] private BoardQueries Board { get; set; } = default!;
    [Inject] private BoardFeed Feed { get; set; } = default!;
    [Inject] private BoardCommands Commands { get; set; } = default!;
    [Inject] private HoldEndQueries HoldEnds { get; set; } = default!;
    [Inject] private MyDeployments Deployments { get; set; } = default!;
    [Inject] private ILogger<MyWork> Logger { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthState { get; set; } = default!;

    private DateTime Now => Feed.UtcNow;

    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthState).User;
        _me = Actor.From(_user).Id;
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        try
        {
            var slots = await Board.GetBoardAsync(_cts.Token);
            _holds = [.. slots.Where(s => s.Hold?.HolderId == _me)];
            _news = await HoldEnds.NewsForAsync(_me, ct: _cts.Token);
            _deployments = await Deployments.OfAsync(_me, ct: _cts.Token);
            _error = null;
            _loaded = true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Logger.LogError(ex, "Loading My work failed");
            _error = "the database did not answer."; // what was shown last stays
        }
    }

    private async Task ReloadAsync()
    {
        await LoadAsync();
        StateHasChanged();
    }

    private Task OnChangedAsync(SlotChange change) => ReloadAsync();

    private async Task RunAsync(SlotCard slot, SlotCardCommand command, TimeSpan by)
    {
        if (await Commands.RunAsync(_user, new SlotCardRequest(slot, command, by), Feed.HoldChoices(), Feed.DefaultDuration, _cts.Token))
        {
            await ReloadAsync();
        }
    }

    /// <summary>The verdict on the hold a deployment ran under, when QA or someone else ended it.</summary>
    private HoldEnd? Ended(MyDeploymentRow d) => _news.FirstOrDefault(n => n.HoldId == d.HoldId);

    public void Dispose()
    {
        _cts.Cancel();
        _cts.Dispose();
    }
}

using System.Security.Claims;
using DeployPortal.Web.Data;
using DeployPortal.Web.Insights;
using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Components.Pages.Slots;

/// <summary>
/// One slot: who holds it and until when, what runs there with its pods and live logs (one app at a time,
/// <c>?app=</c> so the link can be shared), and who held it before, with their branches and QA outcome.
/// </summary>
public sealed partial class SlotPage : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private SlotCard? _slot;
    private IReadOnlyList<SlotHoldHistoryRow> _history = [];
    private SlotState _state;
    private bool _notFound;
    private string? _error;
    private DateTime _now;
    private ClaimsPrincipal _user = new();

    [Parameter] public string Name { get; set; } = "";

    /// <summary>The app whose logs are shown; the first one running here when absent.</summary>
    [SupplyParameterFromQuery(Name = "app")] public string? App { get; set; }

    [Inject] private BoardQueries Board { get; set; } = default!;
    [Inject] private InsightsService Insights { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private IOptionsMonitor<HoldOptions> HoldOptions { get; set; } = default!;
    [Inject] private IOptionsMonitor<IdleOptions> IdleOptions { get; set; } = default!;
    [Inject] private ILogger<SlotPage> Logger { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthState { get; set; } = default!;
    [CascadingParameter] private TimeZoneInfo? Zone { get; set; }

    /// <summary>Why the hold counts as in use or idle, while idle holds are given back.</summary>
    private (string Short, string Title)? UseOf(HoldView hold) =>
        IdleOptions.CurrentValue.GiveBack is { } g ? Shared.HoldUseText.For(hold, g.ReleaseAfter, g.AskWhenQueuedAfter, Zone, _now) : null;

    private string? SelectedApp => _slot?.Deployments is { Count: > 0 } running
        ? running.FirstOrDefault(d => d.App == App)?.App ?? running[0].App
        : null;

    protected override async Task OnInitializedAsync() => _user = (await AuthState).User;

    protected override async Task OnParametersSetAsync() => await LoadAsync();

    private async Task LoadAsync()
    {
        try
        {
            // The board query is one read of every slot; for one slot's page that is still a handful of rows.
            _slot = (await Board.GetBoardAsync(_cts.Token)).FirstOrDefault(s => string.Equals(s.Name, Name, StringComparison.OrdinalIgnoreCase));
            _notFound = _slot is null;
            _now = Clock.GetUtcNow().UtcDateTime;
            if (_slot is { } slot)
            {
                _state = SlotActions.For(_user, slot, _now, HoldOptions.CurrentValue.WarnBefore).State;
                _history = await Insights.GetSlotHistoryAsync(slot.Id, ct: _cts.Token);
            }

            _error = null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Logger.LogError(ex, "Loading slot {Slot} failed", Name);
            _error = "The slot could not be loaded. Try again in a moment.";
        }
    }

    private async Task OnChangedAsync(SlotChange change)
    {
        if (_slot is null || change.SlotId == _slot.Id)
        {
            await LoadAsync();
            StateHasChanged();
        }
    }

    private static string Ending(SlotHoldHistoryRow h) => h.ReleaseReason switch
    {
        null => "still held",
        ReleaseReason.Released => $"released by {h.ReleasedByName}",
        ReleaseReason.QaDone => $"QA {(h.QaOutcome == QaOutcome.Fail ? "failed" : "passed")} ({h.ReleasedByName}){(string.IsNullOrWhiteSpace(h.ReleaseNote) ? "" : $": {h.ReleaseNote}")}",
        ReleaseReason.Expired => "expired",
        ReleaseReason.Forced => $"force-released by {h.ReleasedByName}",
        _ => h.ReleaseReason.ToString()!,
    };

    public void Dispose()
    {
        _cts.Cancel();
        _cts.Dispose();
    }
}

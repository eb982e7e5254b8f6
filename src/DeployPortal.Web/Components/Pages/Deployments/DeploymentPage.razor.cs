using System.Security.Claims;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace DeployPortal.Web.Components.Pages.Deployments;

public sealed partial class DeploymentPage : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private DeploymentView? _deployment;
    private IReadOnlyList<DeploymentView> _history = [];
    private bool _notFound;
    private string? _loadError;
    private bool _busy;
    private ClaimsPrincipal _user = new();
    private HoldEnd? _ended;
    private LogViewer? _logs;
    private string? _slotHolderId;
    private ITimer? _leaseTimer;

    [Parameter] public long Id { get; set; }

    [Inject] private DeploymentService Deployments { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private HoldEndQueries HoldEnds { get; set; } = default!;
    [Inject] private ILogger<DeploymentPage> Logger { get; set; } = default!;
    [Inject] private Microsoft.Extensions.Options.IOptions<GitOps.GitOpsOptions> GitOps { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthState { get; set; } = default!;

    [CascadingParameter] private TimeZoneInfo? Zone { get; set; }

    private bool CanAct => _user.Can(Policies.HoldSlots);

    /// <summary>After the hold ended, deploying again makes sense when the slot is free or the reader's own.</summary>
    private bool CanDeployAgain => CanAct && (_slotHolderId is null || _slotHolderId == Actor.From(_user).Id);

    private static string DeployAgainHref(DeploymentView d) =>
        $"/deploy?app={Uri.EscapeDataString(d.App)}&branch={Uri.EscapeDataString(d.Branch)}&slot={Uri.EscapeDataString(d.SlotName)}";

    private static Severity EndedSeverity(HoldEnd ended) => ended.Outcome switch
    {
        QaOutcome.Fail => Severity.Error,
        QaOutcome.Pass => Severity.Success,
        _ => Severity.Info,
    };

    private bool WorkerStopped => _deployment?.WorkerStopped(Clock.GetUtcNow().UtcDateTime) == true;

    protected override async Task OnInitializedAsync() => _user = (await AuthState).User;

    protected override async Task OnParametersSetAsync() => await FirstLoadAsync();

    /// <summary>The first read (and a retry): a database that does not answer gives an error with a retry, not an endless spinner.</summary>
    private async Task FirstLoadAsync()
    {
        try
        {
            await LoadAsync();
            _loadError = null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Logger.LogError(ex, "Loading deployment {DeploymentId} failed", Id);
            _loadError = "the database did not answer.";
        }
    }

    // The crash reason's button: the log viewer below switches to the crashed pod's previous run (the cluster's
    // previous=true log), where the whole story of the crash is, not only the lines kept with the reason.
    // Only while the slot is still held: after a release the pods (and their logs) are gone.
    private EventCallback<string> PreviousLog => _ended is null ? EventCallback.Factory.Create<string>(this, ShowPreviousLogAsync) : default;

    private async Task ShowPreviousLogAsync(string pod)
    {
        if (_logs is not null)
        {
            await _logs.ShowPreviousRunAsync(pod);
        }
    }

    private async Task LoadAsync()
    {
        _deployment = await Deployments.GetAsync(Id, _cts.Token);
        _notFound = _deployment is null;
        if (_deployment is { } d)
        {
            _history = await Deployments.HistoryAsync(d.SlotId, d.App, ct: _cts.Token);
            _ended = d.HoldId is { } holdId ? await HoldEnds.OfHoldAsync(holdId, _cts.Token) : null;
            _slotHolderId = _ended is null ? null : await HoldEnds.CurrentHolderIdAsync(d.SlotId, _cts.Token);
        }

        WatchLease();
    }

    /// <summary>
    /// A worker renews its lease without telling anyone, and a dead one cannot: look again just after the lease
    /// we know of ends, so the page says the worker stopped when it did. A take-over publishes a change.
    /// </summary>
    private void WatchLease()
    {
        _leaseTimer?.Dispose();
        _leaseTimer = null;
        if (_deployment is { State: DeploymentState.Running, LeaseUntil: { } lease } && !WorkerStopped)
        {
            var due = lease - Clock.GetUtcNow().UtcDateTime + TimeSpan.FromMilliseconds(100);
            _leaseTimer = Clock.CreateTimer(_ => _ = InvokeAsync(ReloadAsync), null, due, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task ReloadAsync()
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await LoadAsync();
            StateHasChanged();
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception)
        {
            // The database did not answer: the page keeps what it showed; the next change or look reloads it.
        }
    }

    private async Task OnChangedAsync(SlotChange change)
    {
        if (_deployment is { } d && (change.SlotId == d.SlotId || change.IsResync))
        {
            await LoadAsync();
            StateHasChanged();
        }
    }

    private async Task CancelAsync()
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Cancel this deployment?",
            "A queued deployment, or one waiting for its image, never starts; a running one stops at its next step. What was already applied stays until the slot is released or redeployed.",
            yesText: "Cancel deployment", cancelText: "Keep going");
        if (confirmed != true)
        {
            return;
        }

        _busy = true;
        try
        {
            var result = await Deployments.CancelAsync(_user, Id, _cts.Token);
            Snackbar.Add(result.Succeeded ? "Cancelling." : result.Failure!.Message, result.Succeeded ? Severity.Info : Severity.Warning);
            await LoadAsync();
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task RedeployAsync(long id)
    {
        _busy = true;
        try
        {
            var result = await Deployments.RedeployAsync(_user, id, _cts.Token);
            if (result.Succeeded)
            {
                Navigation.NavigateTo($"/deployments/{result.Value!.Id}");
            }
            else
            {
                Snackbar.Add(result.Failure!.Message, Severity.Error);
            }
        }
        finally
        {
            _busy = false;
        }
    }

    private string Elapsed(StepView step)
    {
        var end = step.FinishedAt ?? Clock.GetUtcNow().UtcDateTime;
        var span = end - step.StartedAt;
        return span < TimeSpan.FromSeconds(1) ? $"{span.TotalMilliseconds:0} ms" : span < TimeSpan.FromMinutes(1) ? $"{span.TotalSeconds:0.0} s" : TimeText.Duration(span);
    }

    private static string StepIcon(StepState state) => state switch
    {
        StepState.Succeeded => Icons.Material.Filled.CheckCircle,
        StepState.Failed => Icons.Material.Filled.Error,
        _ => Icons.Material.Filled.Autorenew,
    };

    private static Color StepColor(StepState state) => state switch
    {
        StepState.Succeeded => Color.Success,
        StepState.Failed => Color.Error,
        _ => Color.Info,
    };

    public async ValueTask DisposeAsync()
    {
        _leaseTimer?.Dispose();
        await _cts.CancelAsync();
        _cts.Dispose();
    }
}

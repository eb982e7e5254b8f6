using System.Security.Claims;
using DeployPortal.Web.Apps;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Git;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Waitlist;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Components.Pages.Deployments;

public sealed partial class Deploy
{
    [Inject] private DeploymentService Deployments { get; set; } = default!;
    [Inject] private WaitlistService Waitlist { get; set; } = default!;
    [Inject] private ElasticBudgets ElasticBudgets { get; set; } = default!;
    [Inject] private AppCatalog Apps { get; set; } = default!;
    [Inject] private BranchCatalog Branches { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private IOptionsMonitor<HoldOptions> HoldOptions { get; set; } = default!;
    [Inject] private IOptionsMonitor<Registry.RegistryOptions> RegistryOptions { get; set; } = default!;
    [Inject] private ILogger<Deploy> Logger { get; set; } = default!;

    private DeployForm _form = new("", false, default);
    private ClaimsPrincipal _user = new();
    private string? _branchHelp;
    private string? _error;
    private string? _notice;
    private string? _loadError;
    private bool _submitting;
    private MyQueueEntries? _myQueue;

    [CascadingParameter] private Task<AuthenticationState> AuthState { get; set; } = default!;

    // Prefill from the address, so "deploy this here" can be shared as a link.
    [SupplyParameterFromQuery(Name = "app")] private string? QueryApp { get; set; }
    [SupplyParameterFromQuery(Name = "branch")] private string? QueryBranch { get; set; }
    [SupplyParameterFromQuery(Name = "slot")] private string? QuerySlot { get; set; }

    // The page is prerendered before its circuit connects; anything typed then would be lost, so the form waits.
    // Inputs open once the circuit is live *and* the form's data is loaded: typing or submitting while the
    // interactive OnInitializedAsync still resets app and branch would lose the input or fail validation.
    private bool Live => RendererInfo.IsInteractive && _ready;

    private bool _ready;

    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthState).User;
        _form = new DeployForm(_user.Identity?.IsAuthenticated == true ? Actor.From(_user).Id : "", _user.Can(Policies.Administer),
            HoldOptions.CurrentValue.DefaultDuration);
        if (!_user.Can(Policies.HoldSlots))
        {
            _ready = true;
            return;
        }

        await LoadAsync();
    }

    /// <summary>Reads the slots and starts the form on them; says what went wrong when they cannot be read.</summary>
    private async Task LoadAsync()
    {
        try
        {
            _form.Start(await Deployments.SlotChoicesAsync(), QuerySlot, await ElasticBudgets.GetAsync());
            _loadError = null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Logger.LogError(ex, "Loading the deploy form failed");
            _loadError = "the database did not answer.";
            return;
        }

        if (Apps.Find(QueryApp) is { } app)
        {
            await AppChangedAsync(app.Name);
            // A shared link's branch is kept even when it is not (or no longer) a branch: the field says so.
            _form.Branch = string.IsNullOrWhiteSpace(QueryBranch) ? null : QueryBranch.Trim();
        }

        _ready = true;
    }

    /// <summary>A message about the last press goes once the person changes what they asked for.</summary>
    private void ClearMessages() => (_error, _notice) = (null, null);

    private async Task AppChangedAsync(string? app)
    {
        ClearMessages();
        _form.ChooseApp(app);
        await LoadBranchesAsync(refresh: false);
    }

    private async Task LoadBranchesAsync(bool refresh)
    {
        if (Apps.Find(_form.App) is not { } app)
        {
            return;
        }

        _form.LoadingBranchesStarted();
        _branchHelp = "Loading branches…";
        try
        {
            _branchHelp = _form.BranchesLoaded(await Branches.ListAsync(app, refresh), await Deployments.RecentBranchesAsync(_user, app.Name));
        }
        catch (GitException ex)
        {
            _branchHelp = _form.BranchesFailed(ex);
        }
    }

    private Task<IEnumerable<string>> SearchBranches(string? text, CancellationToken ct) => Task.FromResult(_form.SearchBranches(text));

    private string? ValidateBranch(string? branch) => string.IsNullOrEmpty(branch) ? null : _form.BranchError;

    private void OnImageChecked(Registry.ImagePreflightView? view) => _form.WhenBuilt = view is { Checked: true, Status: Registry.ImageStatus.Missing };

    private async Task SubmitAsync()
    {
        if (_submitting)
        {
            return; // a double click queues one deployment
        }

        if (_form.BranchError is not null)
        {
            return; // the field says what is wrong with the branch and offers the likely one; nothing is sent
        }

        _submitting = true;
        ClearMessages();
        try
        {
            if (_form.QueueMode)
            {
                await JoinQueueAsync();
                return;
            }

            var result = await Deployments.CreateAsync(_user, _form.ToDeployRequest());
            if (result.Succeeded)
            {
                Navigation.NavigateTo($"/deployments/{result.Value!.Id}");
                return;
            }

            _error = result.Failure!.Message;
            _form.Refresh(await Deployments.SlotChoicesAsync(), await ElasticBudgets.GetAsync());
        }
        finally
        {
            _submitting = false;
        }
    }

    private async Task JoinQueueAsync()
    {
        var joined = await Waitlist.JoinAsync(_user, _form.ToJoinRequest());
        if (!joined.Succeeded)
        {
            _error = joined.Failure!.Message;
            return;
        }

        // The status above the form follows the entry live: position while waiting, then the slot and the deployment.
        if (_myQueue is not null)
        {
            await _myQueue.ReloadAsync();
        }

        _form.Refresh(await Deployments.SlotChoicesAsync());
        var entry = joined.Value!;
        // Also the answer to pressing again: the same entry, not a second one.
        _notice = $"You are #{entry.Position} in the queue for {entry.SlotName ?? "any slot"} with {entry.App}@{entry.Branch}; leave it above if plans change.";
        if (entry.State == Data.WaitlistState.Served)
        {
            await OnServedAsync(entry); // a fitting slot was free: served at once
        }
    }

    /// <summary>
    /// The queue served the person: the slot is theirs now, so the form deploys into it instead of offering the
    /// queue again (a second join would hand them a second slot at the next release; the service refuses it too).
    /// </summary>
    private async Task OnServedAsync(QueueEntryView entry)
    {
        _form.Served(await Deployments.SlotChoicesAsync(), entry.ServedSlotName);
        ClearMessages();
        StateHasChanged();
    }
}

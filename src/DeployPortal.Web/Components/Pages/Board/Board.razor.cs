using System.Collections.Concurrent;
using System.Security.Claims;
using DeployPortal.Web.Common;
using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using MudBlazor;

namespace DeployPortal.Web.Components.Pages.Board;

public sealed partial class Board : IDisposable
{
    private readonly HashSet<int> _busy = [];
    private readonly CancellationTokenSource _cts = new();
    private IReadOnlyList<SlotCard>? _slots;
    private string? _error;
    private DateTime? _shownAt; // when the board on show was read
    private bool _paused; // live updates are not reaching this board: the database or the live feed is down
    private ClaimsPrincipal _user = new();
    private SlotRights _rights = SlotRights.Of(new ClaimsPrincipal());
    private TimeSpan _warnBefore;
    private IReadOnlyList<TimeSpan> _holdChoices = [];
    private IDisposable? _ticker;
    private IDisposable? _changes;
    private IdleOptions _idle = new();
    private SlotCardContext _cards = default!; // set in OnInitializedAsync
    private QueuePanel? _queue;
    private LiveText? _summary;
    private readonly Dictionary<int, SlotCardView> _views = [];
    private RenderedCard[] _rendered = []; // per position on the board: what it shows there

    [Inject] private HoldActions Slots { get; set; } = default!;
    [Inject] private SlotAdmin Admin { get; set; } = default!;
    [Inject] private BoardSnapshot BoardSnapshot { get; set; } = default!;
    [Inject] private SlotChangeNotifier Notifier { get; set; } = default!;
    [Inject] private BoardClock BoardClock { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private IOptionsMonitor<HoldOptions> HoldOptions { get; set; } = default!;
    [Inject] private IdleSlots Idle { get; set; } = default!;
    [Inject] private IdleGiveBack GiveBack { get; set; } = default!;
    [Inject] private IOptionsMonitor<IdleOptions> IdleOptions { get; set; } = default!;
    [Inject] private ILogger<Board> Logger { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthState { get; set; } = default!;

    /// <summary>The reader's time zone (the layout learns it from the browser after the first render); the cards get it through <see cref="_cards"/>.</summary>
    [CascadingParameter] private TimeZoneInfo? Zone { get; set; }

    private string Summary
    {
        get
        {
            if (_slots is null)
            {
                return "";
            }

            var (free, enabled) = (0, 0);
            for (var i = 0; i < _slots.Count; i++) // indexed: LINQ over the interface boxed an enumerator per count on every open board
            {
                free += _slots[i].IsFree ? 1 : 0;
                enabled += _slots[i].Enabled ? 1 : 0;
            }

            return $"{free} of {enabled} free";
        }
    }

    // @key takes an object, so a card's int id was boxed anew for every card of every open board at every change; the
    // boxes are shared instead (one per slot id, few).
    private static readonly ConcurrentDictionary<int, object> Keys = new();

    private static object KeyFor(int id) => Keys.GetOrAdd(id, static id => id);

    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthState).User;
        _rights = SlotRights.Of(_user);
        _idle = IdleOptions.CurrentValue;
        var options = HoldOptions.CurrentValue;
        _warnBefore = options.WarnBefore;
        _holdChoices = [.. options.Choices.Where(c => c <= options.MaxDuration)];
        _cards = new SlotCardContext(default, Zone, options.RemindBefore, _idle.After, _idle.AllowSleep, _rights.CanHold, ExtendChoices,
            EventCallback.Factory.Create<SlotCardRequest>(this, OnCardCommandAsync));
        await LoadAsync();
    }

    protected override void OnParametersSet()
    {
        // _cards is null only while OnInitializedAsync still waits for the sign-in state; it then reads Zone itself.
        if (_cards is not null && _cards.Zone != Zone)
        {
            _cards = _cards with { Zone = Zone }; // a new context: every card works out its times again
        }
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && RendererInfo.IsInteractive)
        {
            // Subscribed here rather than through SlotChangeSubscription: one component fewer in every open board.
            _changes = Notifier.SubscribeComponent(InvokeAsync, OnSlotChangedAsync);
            // Only the wording of times ("expires in 24 min") changes with the clock; the data is pushed. A tick hands the
            // cards the new time like a slot change does, so only a card whose wording moved renders.
            _ticker = BoardClock.Subscribe(() => _ = InvokeAsync(Tick));
        }
    }

    private async Task LoadAsync()
    {
        try
        {
            _slots = await BoardSnapshot.GetAsync(_cts.Token);
            SetNow();
            _error = null;
            _shownAt = Now;
            _paused = Notifier.LivePaused;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Logger.LogError(ex, "Loading the board failed");
            if (_slots is null)
            {
                _error = "the database did not answer.";
            }
            else
            {
                _paused = true; // keep showing the last state, and say which
            }
        }
    }

    private void Tick()
    {
        SetNow();
        if (!UpdateCardsInPlace(_slots, clockMoved: true))
        {
            StateHasChanged();
        }
    }

    private string ShownAt(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(utc, Zone ?? TimeZoneInfo.Utc).ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    // The board's time, which the cards share: set when the board loads and when its clock ticks.
    private DateTime Now => _cards.Now;

    private void SetNow() => _cards = _cards with { Now = Clock.GetUtcNow().UtcDateTime };

    private async Task OnSlotChangedAsync(SlotChange change)
    {
        if (change.IsPaused)
        {
            if (!_paused && _slots is not null)
            {
                _paused = true;
                StateHasChanged();
            }

            return;
        }

        var (before, wasPaused) = (_slots, _paused);
        await LoadAsync();
        if (!UpdateCardsInPlace(before) || _paused != wasPaused)
        {
            StateHasChanged();
        }

        if (_queue is not null)
        {
            await _queue.SlotChangedAsync(change);
        }
    }

    private Task OnCardCommandAsync(SlotCardRequest request) => request.Command switch
    {
        SlotCardCommand.Claim => ClaimAsync(request.Slot),
        SlotCardCommand.Extend => ExtendAsync(request.Slot, request.By),
        SlotCardCommand.Release => ReleaseAsync(request.Slot),
        SlotCardCommand.QaRelease => QaReleaseAsync(request.Slot),
        SlotCardCommand.ForceRelease => ForceReleaseAsync(request.Slot),
        SlotCardCommand.Edit => EditSlotAsync(request.Slot),
        SlotCardCommand.ToggleEnabled => ToggleEnabledAsync(request.Slot),
        SlotCardCommand.Sleep => SleepAsync(request.Slot),
        SlotCardCommand.Wake => WakeAsync(request.Slot),
        SlotCardCommand.Keep => KeepAsync(request.Slot),
        _ => Task.CompletedTask,
    };

    /// <summary>
    /// When the same slots are on the board in the same order, hands each card component its new data instead of
    /// re-rendering the board: a change then renders one card on each open board. The board renders when a read-only
    /// card's markup changed or a card changed between markup and component, and for anything else (a slot added or
    /// removed, an error, a card not rendered yet).
    /// </summary>
    private bool UpdateCardsInPlace(IReadOnlyList<SlotCard>? before, bool clockMoved = false)
    {
        if (before is null || _slots is null || _error is not null || _summary is null || before.Count != _slots.Count
            || _rendered.Length != _slots.Count)
        {
            return false;
        }

        var render = false;
        for (var i = 0; i < _slots.Count; i++)
        {
            var slot = _slots[i];
            if (slot.Id != before[i].Id)
            {
                return false; // slots added, removed or reordered: the board renders
            }

            var actions = SlotActions.For(_rights, slot, Now, _warnBefore);
            var last = _rendered[i];
            if (last.Card is not null && !clockMoved && actions == last.Actions && slot.Equals(last.Slot))
            {
                // A read-only card whose slot did not change keeps its wording until the next tick, as a component does.
                _rendered[i] = last with { Slot = slot, Context = _cards };
                continue;
            }

            var worked = WorkOut(slot, actions);
            if (worked.Card is not null || last.Card is not null)
            {
                // Noted for the render this may cause, which then reuses it rather than working every card out again.
                _rendered[i] = worked;
                render |= worked.Card?.Value != last.Card?.Value; // shows something new, or became or stopped being read-only
            }
            else if (_views.TryGetValue(slot.Id, out var view))
            {
                view.Update(slot, actions, _cards, clockMoved);
            }
            else
            {
                render = true;
            }
        }

        if (!render)
        {
            _summary.Set(Summary);
        }

        return !render;
    }

    /// <summary>
    /// The card at this position as shared markup when it has nothing to press, noting what this render shows there.
    /// What <see cref="UpdateCardsInPlace"/> has just worked out for the same slot, rights and context is reused.
    /// </summary>
    private MarkupString? ReadOnlyCard(int index, SlotCard slot, SlotActions actions)
    {
        if (_rendered.Length != _slots!.Count)
        {
            _rendered = new RenderedCard[_slots.Count];
        }

        var last = _rendered[index];
        if (ReferenceEquals(last.Slot, slot) && last.Actions == actions && ReferenceEquals(last.Context, _cards))
        {
            return last.Card;
        }

        _rendered[index] = WorkOut(slot, actions);
        return _rendered[index].Card;
    }

    /// <summary>What the board shows for this slot now: its shared markup, or null when it is a component card.</summary>
    private RenderedCard WorkOut(SlotCard slot, SlotActions actions) =>
        new(slot, actions, _cards, SlotCardView.ReadOnlyMarkup(slot, actions, _cards, _busy.Contains(slot.Id)));

    /// <summary>
    /// A card as the board last worked it out: the slot read, rights and context it was for, and its markup when it has
    /// no buttons (null for a component card).
    /// </summary>
    private readonly record struct RenderedCard(SlotCard? Slot, SlotActions Actions, SlotCardContext? Context, MarkupString? Card);

    private IReadOnlyList<TimeSpan> ExtendChoices(SlotCard slot)
    {
        if (slot.Hold is null)
        {
            return [];
        }

        var room = HoldOptions.CurrentValue.RoomToExtend(slot.Hold.Since, slot.Hold.Until, Now);
        return [.. _holdChoices.Where(c => c <= room)];
    }

    private async Task ClaimAsync(SlotCard slot)
    {
        var parameters = new DialogParameters<ClaimDialog>
        {
            { d => d.SlotName, slot.Name },
            { d => d.Choices, _holdChoices },
            { d => d.DefaultDuration, HoldOptions.CurrentValue.DefaultDuration },
        };
        var dialog = await Dialogs.ShowAsync<ClaimDialog>($"Claim {slot.Name}", parameters);
        if (await dialog.Result is { Canceled: false, Data: ClaimDialog.Answer answer })
        {
            await RunAsync(slot, () => Slots.ClaimAsync(_user, new ClaimRequest(slot.Id, answer.Purpose, answer.Duration), _cts.Token),
                hold => $"{slot.Name} is yours for {TimeText.Duration(hold.Until - hold.Since)}.");
        }
    }

    private Task ExtendAsync(SlotCard slot, TimeSpan by) =>
        RunAsync(slot, () => Slots.ExtendAsync(_user, slot.Id, slot.Hold!.Id, by, slot.Hold.Until, _cts.Token),
            _ => $"{slot.Name} extended by {TimeText.Duration(by)}.");

    private async Task ReleaseAsync(SlotCard slot)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Release {slot.Name}?",
            $"You will no longer hold {slot.Name} ({slot.Hold?.Purpose}). Someone else can claim it straight away.",
            yesText: "Release", cancelText: "Keep it");
        if (confirmed == true)
        {
            await RunAsync(slot, () => Slots.ReleaseAsync(_user, new ReleaseRequest(slot.Id, slot.Hold!.Id), _cts.Token),
                _ => $"{slot.Name} released.");
        }
    }

    private async Task QaReleaseAsync(SlotCard slot)
    {
        var parameters = new DialogParameters<QaReleaseDialog>
        {
            { d => d.SlotName, slot.Name },
            { d => d.HolderName, slot.Hold!.HolderName },
            { d => d.Purpose, slot.Hold!.Purpose },
        };
        var dialog = await Dialogs.ShowAsync<QaReleaseDialog>($"QA done on {slot.Name}", parameters);
        if (await dialog.Result is { Canceled: false, Data: QaReleaseDialog.Answer answer })
        {
            await RunAsync(slot, () => Slots.ReleaseAsync(_user, new ReleaseRequest(slot.Id, slot.Hold!.Id, answer.Outcome, answer.Note), _cts.Token),
                _ => $"{slot.Name} released: QA {answer.Outcome.ToString().ToLowerInvariant()}.");
        }
    }

    private async Task ForceReleaseAsync(SlotCard slot)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Force-release {slot.Name}?",
            $"{slot.Hold?.HolderName} holds {slot.Name} for \"{slot.Hold?.Purpose}\". Taking it back ends their hold now and is recorded in the history.",
            yesText: "Force release", cancelText: "Cancel");
        if (confirmed == true)
        {
            await RunAsync(slot, () => Slots.ReleaseAsync(_user, new ReleaseRequest(slot.Id, slot.Hold!.Id), _cts.Token),
                _ => $"{slot.Name} taken back from {slot.Hold?.HolderName}.");
        }
    }

    private async Task SleepAsync(SlotCard slot)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Put {slot.Name} to sleep?",
            $"The apps in {slot.Name} are scaled to zero until someone wakes the slot or deploys to it. {slot.Hold?.HolderName} keeps the hold.",
            yesText: "Sleep", cancelText: "Cancel");
        if (confirmed == true)
        {
            await RunAsync(slot, () => Idle.SleepAsync(_user, slot.Id, slot.Hold!.Id, _cts.Token), _ => $"{slot.Name} is going to sleep.");
        }
    }

    private Task WakeAsync(SlotCard slot) =>
        RunAsync(slot, () => Idle.WakeAsync(_user, slot.Id, slot.Hold!.Id, _cts.Token), _ => $"{slot.Name} is waking up.");

    private Task KeepAsync(SlotCard slot) =>
        RunAsync(slot, () => GiveBack.KeepAsync(_user, slot.Id, slot.Hold!.Id, _cts.Token), _ => $"{slot.Name} is yours; it will not be given back now.");

    private async Task AddSlotAsync()
    {
        var dialog = await Dialogs.ShowAsync<SlotEditDialog>("Add slot");
        if (await dialog.Result is { Canceled: false, Data: SlotEdit edit })
        {
            await ShowAsync(await Admin.AddSlotAsync(_user, edit, _cts.Token), s => $"{s.Name} added.");
        }
    }

    private async Task EditSlotAsync(SlotCard slot)
    {
        var parameters = new DialogParameters<SlotEditDialog> { { d => d.Initial, new SlotEdit(slot.Name, slot.Namespace, slot.Description, slot.UrlPattern) } };
        var dialog = await Dialogs.ShowAsync<SlotEditDialog>($"Edit {slot.Name}", parameters);
        if (await dialog.Result is { Canceled: false, Data: SlotEdit edit })
        {
            await RunAsync(slot, () => Admin.EditSlotAsync(_user, slot.Id, edit, _cts.Token), s => $"{s.Name} saved.");
        }
    }

    private Task ToggleEnabledAsync(SlotCard slot) =>
        RunAsync(slot, () => Admin.SetEnabledAsync(_user, slot.Id, !slot.Enabled, _cts.Token),
            s => s.Enabled ? $"{s.Name} is open for claims." : $"{s.Name} is disabled: no new claims.");

    /// <summary>Runs one action on a slot, one at a time per slot (a double click waits), and reports the outcome.</summary>
    private async Task RunAsync<T>(SlotCard slot, Func<Task<Result<T>>> action, Func<T, string> success)
    {
        if (!_busy.Add(slot.Id))
        {
            return;
        }

        try
        {
            await ShowAsync(await action(), success);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Logger.LogError(ex, "Action on {Slot} failed", slot.Name);
            Snackbar.Add("That did not work: the database did not answer. Nothing was changed; try again.", Severity.Error);
        }
        finally
        {
            _busy.Remove(slot.Id);
        }
    }

    private async Task ShowAsync<T>(Result<T> result, Func<T, string> success)
    {
        if (result.Succeeded)
        {
            Snackbar.Add(success(result.Value!), Severity.Success);
        }
        else
        {
            Snackbar.Add(result.Failure!.Message, result.Failure.Kind == FailureKind.Conflict ? Severity.Warning : Severity.Error);
        }

        await LoadAsync();
    }

    public void Dispose()
    {
        _changes?.Dispose();
        _ticker?.Dispose();
        _cts.Cancel();
        _cts.Dispose();
    }
}

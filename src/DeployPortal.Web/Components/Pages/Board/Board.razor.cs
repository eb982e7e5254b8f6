using System.Collections.Concurrent;
using System.Security.Claims;
using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// The board: every slot as a card, live. It loads the shared snapshot, follows slot changes and the clock, and shows
/// its loading, empty, error and data states; what the cards look like is <see cref="SlotCardParts"/> and
/// <see cref="SlotCardView"/>, what a change re-renders is <see cref="BoardCards"/>, and what the buttons do is
/// <see cref="BoardCommands"/> (docs/adr/0001-board-renders-cards-as-markup.md says why it renders this way).
/// </summary>
public sealed partial class Board : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly BoardCards _rendered = new();
    private readonly Dictionary<int, SlotCardView> _views = [];
    private IReadOnlyList<SlotCard>? _all; // the shared snapshot
    private IReadOnlyList<SlotCard>? _slots; // what the filter shows of it: _all itself when nothing is filtered
    private BoardFilter _filter;
    private bool _firstRun; // nothing was ever deployed: show the "try this" card (hidden by CSS once dismissed)
    private string? _error;
    private DateTime? _shownAt; // when the board on show was read
    private bool _paused; // live updates are not reaching this board: the database or the live feed is down
    private ClaimsPrincipal _user = new();
    private SlotRights _rights = SlotRights.Of(new ClaimsPrincipal());
    private TimeSpan _warnBefore;
    private IReadOnlyList<TimeSpan> _holdChoices = [];
    private IDisposable? _ticker;
    private IDisposable? _changes;
    private SlotCardContext _cards = default!; // set in OnInitializedAsync
    private QueuePanel? _queue;
    private LiveText? _summary;

    [Inject] private BoardFeed Feed { get; set; } = default!;
    [Inject] private BoardCommands Commands { get; set; } = default!;
    [Inject] private ILogger<Board> Logger { get; set; } = default!;
    [Inject] private NavigationManager Nav { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthState { get; set; } = default!;

    /// <summary>The reader's time zone (the layout learns it from the browser after the first render); the cards get it through <see cref="_cards"/>.</summary>
    [CascadingParameter] private TimeZoneInfo? Zone { get; set; }

    private string Summary
    {
        get
        {
            if (_all is null)
            {
                return "";
            }

            var (free, enabled) = (0, 0);
            for (var i = 0; i < _all.Count; i++) // indexed: LINQ over the interface boxed an enumerator per count on every open board
            {
                free += _all[i].IsFree ? 1 : 0;
                enabled += _all[i].Enabled ? 1 : 0;
            }

            var summary = $"{free} of {enabled} free";
            return _filter.IsEmpty || _slots is null ? summary : $"{summary} · showing {_slots.Count}";
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
        _filter = AddressFilter;
        _searchShown = _addressQuery = _filter.Query;
        _warnBefore = Feed.WarnBefore;
        _holdChoices = Feed.HoldChoices();
        _cards = Feed.CardContext(Zone, _rights.CanHold, _holdChoices, EventCallback.Factory.Create<SlotCardRequest>(this, OnCardCommandAsync));
        await LoadAsync();
        _firstRun = _error is null && await HistoryEmptyAsync();
    }

    private async Task<bool> HistoryEmptyAsync()
    {
        try
        {
            return await Feed.HistoryEmptyAsync(_cts.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Logger.LogWarning(ex, "Reading whether anything was deployed failed; the board shows no first-run card");
            return false;
        }
    }

    protected override void OnParametersSet()
    {
        FollowAddress();

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
            _changes = Feed.OnChange(InvokeAsync, OnSlotChangedAsync);
            // Only the wording of times ("expires in 24 min") changes with the clock; the data is pushed. A tick hands the
            // cards the new time like a slot change does, so only a card whose wording moved renders.
            _ticker = Feed.OnTick(() => _ = InvokeAsync(Tick));
        }
    }

    private async Task LoadAsync()
    {
        try
        {
            _all = await Feed.ReadAsync(_cts.Token);
            _slots = _filter.Apply(_all, _rights.ActorId);
            SetNow();
            _error = null;
            _shownAt = Now;
            _paused = Feed.LivePaused;
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

    private void SetNow() => _cards = _cards with { Now = Feed.UtcNow };

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

    private async Task OnCardCommandAsync(SlotCardRequest request)
    {
        if (await Commands.RunAsync(_user, request, _holdChoices, Feed.DefaultDuration, _cts.Token))
        {
            await LoadAsync();
        }
    }

    private async Task AddSlotAsync()
    {
        if (await Commands.AddSlotAsync(_user, _cts.Token))
        {
            await LoadAsync();
        }
    }

    private SlotActions ActionsFor(SlotCard slot) => SlotActions.For(_rights, slot, Now, _warnBefore);

    /// <summary>Hands the cards their new data without rendering the board when that is enough (<see cref="BoardCards.TryUpdateInPlace"/>).</summary>
    private bool UpdateCardsInPlace(IReadOnlyList<SlotCard>? before, bool clockMoved = false)
    {
        if (before is null || _slots is null || _error is not null || _summary is null
            || !_rendered.TryUpdateInPlace(before, _slots, ActionsFor, _cards, Commands.IsBusy, UpdateView, clockMoved))
        {
            return false;
        }

        _summary.Set(Summary);
        return true;
    }

    private bool UpdateView(SlotCard slot, SlotActions actions, bool clockMoved)
    {
        if (!_views.TryGetValue(slot.Id, out var view))
        {
            return false;
        }

        view.Update(slot, actions, _cards, clockMoved);
        return true;
    }

    public void Dispose()
    {
        _changes?.Dispose();
        _ticker?.Dispose();
        _cts.Cancel();
        _cts.Dispose();
    }
}

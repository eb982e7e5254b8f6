using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using DeployPortal.Web.Common;
using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// A slot card that renders only when what it shows changed. When the board re-renders (its clock ticks, an action
/// runs) only the cards whose content or "expires in…" wording moved render; on a slot change the board does not
/// re-render at all but hands the cards their new data through <see cref="Update"/>.
/// </summary>
public sealed partial class SlotCardView
{
    private static readonly Dictionary<SlotState, string> CardClasses = Enum.GetValues<SlotState>()
        .ToDictionary(s => s, s => $"mud-paper mud-elevation-1 mud-card portal-slot portal-slot-{s.ToString().ToLowerInvariant()}");

    private static readonly MarkupString Free = new("<p class=\"mud-typography mud-typography-body2 portal-muted py-2\">Free. Nobody is using this slot.</p>");
    private static readonly MarkupString Disabled = new("<p class=\"mud-typography mud-typography-body2 portal-muted py-2\">Disabled by an admin: no new claims.</p>");
    private static readonly string Yours = Chip(Color.Primary, Variant.Outlined, "", "yours");
    private static readonly string Asleep = Chip(Color.Default, Variant.Outlined, " data-testid=\"slot-sleeping\"",
        $"<span class=\"mud-chip-icon\">{PlainMud.Icon(Icons.Material.Filled.Bedtime, Size.Small)}</span>asleep");
    private static readonly string Cleaning = Chip(Color.Default, Variant.Outlined, " data-testid=\"slot-cleaning\"", "cleaning…");

    private Shown _shown;
    private bool _changed = true;
    private string _deployLink = "";
    private MarkupString _head;
    private MarkupString _body;
    private MarkupString _deployments;

    [Parameter, EditorRequired] public SlotCard Slot { get; set; } = default!;
    [Parameter, EditorRequired] public SlotActions Actions { get; set; }
    [Parameter] public bool Busy { get; set; }

    /// <summary>What every card of the board shares; one object, so each card costs the board few render-tree frames.</summary>
    [Parameter, EditorRequired] public SlotCardContext Context { get; set; } = default!;

    private string StateName => Actions.State.ToString();

    private bool ButtonsDisabled => Busy || !RendererInfo.IsInteractive;

    private DateTime Now => Context.Now;

    // A viewer's card has no buttons, and no empty button bar either.
    private bool HasActions => HasActionsFor(Slot, Actions, Context, Busy);

    private static bool HasActionsFor(SlotCard slot, SlotActions actions, SlotCardContext context, bool busy) =>
        busy || actions.CanClaim || actions.IsMine || actions.CanQaRelease || actions.CanForceRelease
        || (slot.Hold is { SleepingSince: not null } && context.CanWake);

    private IReadOnlyList<TimeSpan> ExtendChoices { get; set; } = [];

    protected override void OnParametersSet() => Recompute();

    /// <summary>
    /// Shows a newer read of this card, or the board's clock moving on, without the board re-rendering: the board
    /// hands each card its new data directly, so only a card whose content or wording changed renders (and the
    /// board's own render and diff of every card are skipped on thousands of open boards).
    /// </summary>
    /// <param name="clockMoved">
    /// The board's clock ticked: the wording of times may have changed. Otherwise an unchanged card keeps its wording
    /// until the next tick, and only a changed card is worked out again (with the board's current time).
    /// </param>
    public void Update(SlotCard slot, SlotActions actions, SlotCardContext context, bool clockMoved = false)
    {
        if (actions == Actions && slot.Equals(Slot) && (!clockMoved || ReferenceEquals(context, Context)))
        {
            return; // nothing this card shows changed
        }

        Slot = slot;
        Actions = actions;
        Context = context;
        Recompute();
        if (_changed)
        {
            StateHasChanged();
        }
    }

    private void Recompute()
    {
        ExtendChoices = Actions.CanExtend ? Context.ExtendChoices(Slot) : [];
        var shown = ShownFor(Slot, Actions, Context, ButtonsDisabled, ExtendChoices);
        _changed = !shown.Equals(_shown);
        if (_changed)
        {
            var parts = SharedMarkup(shown);
            (_head, _body, _deployments, _deployLink) = (parts.Head, parts.Body, parts.Deployments, parts.DeployLink);
            shown = parts.Key; // the shared copy of the same values: this card's own strings become garbage
        }

        _shown = shown;
    }

    /// <summary>
    /// The whole card as markup when it has nothing to press or open (every card on a viewer's board, other people's
    /// holds on anyone's): the board then renders it as one shared string rather than as a component, which saves each
    /// open board the component's render-tree buffers and state. Null when the card has buttons or menus.
    /// </summary>
    public static MarkupString? ReadOnlyMarkup(SlotCard slot, SlotActions actions, SlotCardContext context, bool busy) =>
        actions.CanAdminister || HasActionsFor(slot, actions, context, busy)
            ? null
            : SharedMarkup(ShownFor(slot, actions, context, disabled: false, [])).Card;

    private static Shown ShownFor(SlotCard slot, SlotActions actions, SlotCardContext context, bool disabled, IReadOnlyList<TimeSpan> extendChoices)
    {
        var hold = slot.Hold;
        var now = context.Now;
        return new Shown(
            slot, actions, disabled, context.CanWake, context.AllowSleep,
            hold is null ? default : LocalTime.Format(hold.Since, context.Zone, now),
            hold is null ? "" : TimeText.Relative(hold.Since, now),
            hold is null ? default : LocalTime.Format(hold.Until, context.Zone, now),
            hold is null ? "" : hold.Until > now ? $"expires {TimeText.Relative(hold.Until, now)}" : "expired, releasing…",
            hold is not null && hold.IsIdle(now, context.IdleAfter)
                ? new IdleText(TimeText.Duration(now - hold.LastActivityAt), $"No deploy or page view since {hold.LastActivityAt:HH:mm} UTC")
                : null,
            actions.IsMine && hold is not null && hold.Until > now && hold.Until - now <= context.RemindBefore,
            string.Join(' ', extendChoices),
            actions.IsMine && hold is { KeepDeadline: { } deadline } && deadline > now
                ? (hold.KeepWaiterName is { } waiter ? $"{waiter} is waiting; your" : "Your")
                  + $" slot has been idle {TimeText.Duration(now - hold.LastActivityAt)}. Keep it or release it: otherwise it is given back {TimeText.Relative(deadline, now)}."
                : null);
    }

    // The card's read-only parts as markup, built when what they show changed: one render-tree frame each, so an
    // open board keeps a few frames per card and a change sends one card's markup. Every value is HTML-encoded.
    // Boards read the same SlotCard instances (BoardSnapshot, which keeps a card's instance until the slot changes), so
    // the markup is built once per slot change and wording, and thousands of open boards share it instead of each
    // building and keeping its own copy.
    private static readonly ConditionalWeakTable<SlotCard, ConcurrentDictionary<Shown, Parts>> Built = new();

    private static Parts SharedMarkup(Shown shown)
    {
        var forSlot = Built.GetOrCreateValue(shown.Slot);
        if (forSlot.Count > 32)
        {
            forSlot.Clear(); // a slot unchanged for hours collects a wording per minute; the boards keep what they use
        }

        return forSlot.GetOrAdd(shown, static s => new Parts(
            s,
            Head(s.Slot, s.Actions, s),
            s.Slot.Hold is { } hold ? HoldDetails(hold, s.Actions, s) : s.Slot.Enabled ? Free : Disabled,
            s.Slot.Hold is null || s.Slot.Deployments.Count == 0 ? default : Deployments(s.Slot.Deployments),
            "/deploy?slot=" + Uri.EscapeDataString(s.Slot.Name)));
    }

    private sealed class Parts(Shown key, MarkupString head, MarkupString body, MarkupString deployments, string deployLink)
    {
        private MarkupString? _card;

        public Shown Key => key;
        public MarkupString Head => head;
        public MarkupString Body => body;
        public MarkupString Deployments => deployments;
        public string DeployLink => deployLink;

        /// <summary>The card without buttons or menus, as SlotCardView.razor renders it; built when first asked for.</summary>
        public MarkupString Card => _card ??= new MarkupString(
            $"<div class=\"{CardClasses[key.Actions.State]}\" data-testid=\"slot-{E(key.Slot.Name)}\" data-state=\"{key.Actions.State}\">"
            + $"<div class=\"mud-card-header mud-card-header-padding pb-1\">{head}</div>"
            + $"<div class=\"mud-card-content mud-card-content-padding py-2\">{body}{deployments}</div></div>");
    }

    private static MarkupString Head(SlotCard slot, SlotActions actions, Shown shown)
    {
        var chips = new StringBuilder();
        chips.Append(Chip(SlotStateChip.ColorOf(actions.State), Variant.Filled, " data-testid=\"slot-state\"", SlotStateChip.TextOf(actions.State)));
        if (actions.IsMine)
        {
            chips.Append(Yours);
        }

        if (slot.Hold is { SleepingSince: not null })
        {
            chips.Append(Asleep);
        }
        else if (shown.Idle is { } idle)
        {
            chips.Append(Chip(Color.Warning, Variant.Outlined, $" data-testid=\"slot-idle\" title=\"{E(idle.Title)}\"", "idle " + E(idle.For)));
        }

        if (slot.Cleaning)
        {
            chips.Append(Cleaning);
        }

        var caption = $"namespace {slot.Namespace}" + (string.IsNullOrEmpty(slot.Description) ? "" : $" · {slot.Description}");
        return new MarkupString(
            "<div class=\"mud-card-header-content\"><div class=\"portal-slot-title\">"
            + $"<h2 class=\"mud-typography mud-typography-h6\"><a href=\"/slots/{E(Uri.EscapeDataString(slot.Name))}\" class=\"portal-slot-link\" data-testid=\"slot-link\">{E(slot.Name)}</a></h2>"
            + chips
            + $"</div><span class=\"mud-typography mud-typography-caption portal-muted\">{E(caption)}</span></div>");
    }

    private static MarkupString HoldDetails(HoldView hold, SlotActions actions, Shown shown) => new(
        "<dl class=\"portal-hold\">"
        + $"<dt>Held by</dt><dd data-testid=\"slot-holder\">{E(hold.HolderName)}</dd>"
        + $"<dt>For</dt><dd data-testid=\"slot-purpose\" class=\"portal-purpose\">{E(hold.Purpose)}</dd>"
        + $"<dt>Since</dt><dd><span title=\"{E(shown.Since.Exact)}\">{E(shown.Since.Short)}</span> <span class=\"portal-muted\">({E(shown.SinceAgo)})</span></dd>"
        + $"<dt>Until</dt><dd data-testid=\"slot-until\"{(actions.State is SlotState.Expiring or SlotState.Expired ? " class=\"portal-warn\"" : "")}>"
        + $"<span title=\"{E(shown.Until.Exact)}\">{E(shown.Until.Short)}</span> <span>{E(shown.Expires)}</span></dd>"
        + "</dl>");

    private static MarkupString Deployments(IReadOnlyList<SlotDeploymentView> deployments)
    {
        var list = new StringBuilder("<ul class=\"portal-running\" data-testid=\"slot-deployments\">");
        foreach (var d in deployments)
        {
            list.Append($"<li data-testid=\"slot-deployment-{E(d.App)}\"><a href=\"/deployments/{d.Id}\">{E(d.App)}@{E(d.Branch)}</a> ");
            if (d.ShortCommit.Length > 0)
            {
                list.Append($"<code class=\"portal-muted\">{E(d.ShortCommit)}</code> ");
            }

            list.Append($"<span class=\"{PlainMud.Chip(DeploymentStateChip.ColorOf(d.State))}\" data-testid=\"deployment-state\" data-state=\"{d.State}\">{d.State}</span></li>");
        }

        return new MarkupString(list.Append("</ul>").ToString());
    }

    private static string Chip(Color color, Variant variant, string attributes, string content) =>
        $"<span class=\"{PlainMud.Chip(color, variant)}\"{attributes}>{content}</span>";

    // Encodes what HTML needs (<, >, &, quotes) and leaves other characters as they are, as Blazor's own text frames do.
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    private static string E(string? text) => Html.Encode(text ?? "");

    protected override bool ShouldRender() => _changed;

    // The current Slot parameter, not the one of the last render: the two are equal when the card skipped a render.
    private Task Send(SlotCardCommand command, TimeSpan by = default) => Context.OnCommand.InvokeAsync(new SlotCardRequest(Slot, command, by));

    /// <summary>Everything the card shows, as values: equal means the last render still stands.</summary>
    private readonly record struct Shown(
        SlotCard Slot,
        SlotActions Actions,
        bool Disabled,
        bool CanWake,
        bool AllowSleep,
        (string Short, string Exact) Since,
        string SinceAgo,
        (string Short, string Exact) Until,
        string Expires,
        IdleText? Idle,
        bool Reminder,
        string ExtendChoices,
        string? KeepQuestion);

    private sealed record IdleText(string For, string Title);
}

/// <summary>
/// What all cards of one board share: the board's clock and the reader's time zone, its settings, the person's right
/// to wake slots, how far a hold may still be extended, and the one callback every button goes through (a callback per
/// button and card would be new delegates on every board render, kept in every open board's render trees).
/// The zone comes through here rather than as each card's cascading parameter: a component that takes a changing
/// cascading value keeps a copy of its parameters (a render-tree buffer of at least 32 frames) to replay them, which
/// was 12 such buffers in every open board (see README, Benchmarks).
/// </summary>
public sealed record SlotCardContext(
    DateTime Now,
    TimeZoneInfo? Zone,
    TimeSpan RemindBefore,
    TimeSpan IdleAfter,
    bool AllowSleep,
    bool CanWake,
    Func<SlotCard, IReadOnlyList<TimeSpan>> ExtendChoices,
    EventCallback<SlotCardRequest> OnCommand);

public enum SlotCardCommand
{
    Claim,
    Extend,
    Release,
    QaRelease,
    ForceRelease,
    Edit,
    ToggleEnabled,
    Sleep,
    Wake,
    Keep,
}

/// <summary>A button pressed on a card; <paramref name="By"/> is the extension chosen.</summary>
public sealed record SlotCardRequest(SlotCard Slot, SlotCardCommand Command, TimeSpan By = default);

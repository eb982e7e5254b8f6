using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// The read-only parts of a slot card as HTML: its head (name, chips, namespace), its body (the hold, or free or
/// disabled), the deployments running in it, and the whole card when it has nothing to press. One render-tree frame
/// per part instead of about sixty, which is what lets thousands of boards stay open (docs/adr/0001). Every value
/// from the database or a person is HTML-encoded; the classes are the portal's own (<see cref="BoardStyles"/>).
/// </summary>
internal static class SlotCardMarkup
{
    private static readonly Dictionary<SlotState, string> CardClasses = Enum.GetValues<SlotState>()
        .ToDictionary(s => s, s => $"portal-card portal-slot portal-slot-{s.ToString().ToLowerInvariant()}");

    public static readonly MarkupString Free = new("<p class=\"portal-body2 portal-muted portal-card-note\">Free. Nobody is using this slot.</p>");
    public static readonly MarkupString Disabled = new("<p class=\"portal-body2 portal-muted portal-card-note\">Disabled by an admin: no new claims.</p>");
    private static readonly string Yours = Chip(Color.Primary, Variant.Outlined, "", "yours");
    private static readonly string AsleepIcon = $"<span class=\"portal-chip-icon\">{BoardStyles.Icon(Icons.Material.Filled.Bedtime, small: true)}</span>";
    private static readonly string Cleaning = Chip(Color.Default, Variant.Outlined, " data-testid=\"slot-cleaning\"", "cleaning…");
    private static readonly string Elastic = Chip(Color.Info, Variant.Outlined,
        " data-testid=\"slot-elastic\" title=\"Made on demand from the elastic pool; removed when it has stood free a while\"", "elastic");

    /// <summary>The card's own classes: a card, with its state's colour along the top.</summary>
    public static string CardClass(SlotState state) => CardClasses[state];

    /// <summary>Where the card's Deploy button leads.</summary>
    public static string DeployLink(SlotCard slot) => "/deploy?slot=" + Uri.EscapeDataString(slot.Name);

    /// <summary>
    /// The card without buttons or menus, laid out as <c>SlotCardView.razor</c> lays out a card with them, in its board
    /// cell: the cell is part of the shared string, so a read-only card is one render-tree frame on every board rather
    /// than three (a cell element, its class and the card).
    /// </summary>
    public static MarkupString Card(SlotState state, string slotName, MarkupString head, MarkupString body, MarkupString deployments) => new(
        $"<div class=\"portal-board-cell\"><div class=\"{CardClasses[state]}\" data-testid=\"slot-{E(slotName)}\" data-state=\"{state}\">"
        + $"<div class=\"portal-card-head\">{head}</div>"
        + $"<div class=\"portal-card-body\">{body}{deployments}</div></div></div>");

    /// <summary>The slot's name (a link to its page), its chips and its namespace and description.</summary>
    public static MarkupString Head(SlotCardShown shown)
    {
        var (slot, actions) = (shown.Slot, shown.Actions);
        var chips = new StringBuilder();
        chips.Append(Chip(SlotStateChip.ColorOf(actions.State), Variant.Filled, " data-testid=\"slot-state\"", SlotStateChip.TextOf(actions.State)));
        if (actions.IsMine)
        {
            chips.Append(Yours);
        }

        if (shown.AsleepSince is { } asleep)
        {
            chips.Append(Chip(Color.Default, Variant.Outlined, $" data-testid=\"slot-sleeping\" title=\"Apps scaled to zero since {E(asleep.Exact)}\"",
                $"{AsleepIcon}asleep since {E(asleep.Short)}"));
        }
        else if (shown.Idle is { } idle)
        {
            chips.Append(Chip(Color.Warning, Variant.Outlined, $" data-testid=\"slot-idle\" title=\"{E(idle.Title)}\"", "idle " + E(idle.For)));
        }

        if (slot.Cleaning)
        {
            chips.Append(Cleaning);
        }

        if (slot.Elastic)
        {
            chips.Append(Elastic);
        }

        var caption = $"namespace {slot.Namespace}" + (string.IsNullOrEmpty(slot.Description) ? "" : $" · {slot.Description}");
        return new MarkupString(
            "<div class=\"portal-card-head-content\"><div class=\"portal-slot-title\">"
            + $"<h2 class=\"portal-card-title\"><a href=\"/slots/{E(Uri.EscapeDataString(slot.Name))}\" class=\"portal-slot-link\" data-testid=\"slot-link\">{E(slot.Name)}</a></h2>"
            + chips
            + $"</div><span class=\"portal-caption portal-muted\">{E(caption)}</span></div>");
    }

    /// <summary>Who holds the slot, for what and until when; or that it is free, or disabled.</summary>
    public static MarkupString Body(SlotCardShown shown) =>
        shown.Slot.Hold is { } hold ? HoldDetails(hold, shown)
        : shown.Slot.LastVerdict is { } verdict ? Verdict(verdict, shown.VerdictAt ?? default, shown.Slot.Enabled ? Free : Disabled)
        : shown.Slot.Enabled ? Free : Disabled;

    /// <summary>QA's verdict on the last hold, shown on the free card until the slot is claimed again: pass or fail, the note, by whom and when.</summary>
    private static MarkupString Verdict(SlotVerdictView verdict, (string Short, string Exact) at, MarkupString state) => new(
        $"<p class=\"portal-body2 portal-verdict\" data-testid=\"slot-verdict\" data-outcome=\"{verdict.Outcome}\">"
        + Chip(verdict.Passed ? Color.Success : Color.Error, Variant.Filled, "", verdict.Passed ? "QA passed" : "QA failed")
        + (verdict.Note is { } note ? $" <span class=\"portal-verdict-note\" data-testid=\"slot-verdict-note\">{E(note)}</span>" : "")
        + $" <span class=\"portal-caption portal-muted\">{E(verdict.ByName)} for {E(verdict.HolderName)}, <span title=\"{E(at.Exact)}\">{E(at.Short)}</span></span></p>"
        + state);

    private static MarkupString HoldDetails(HoldView hold, SlotCardShown shown) => new(
        "<dl class=\"portal-hold\">"
        + $"<dt>Held by</dt><dd data-testid=\"slot-holder\">{E(hold.HolderName)}</dd>"
        + $"<dt>For</dt><dd data-testid=\"slot-purpose\" class=\"portal-purpose\">{E(hold.Purpose)}</dd>"
        + $"<dt>Since</dt><dd><span title=\"{E(shown.Since.Exact)}\">{E(shown.Since.Short)}</span> <span class=\"portal-muted\">({E(shown.SinceAgo)})</span></dd>"
        + $"<dt>Until</dt><dd data-testid=\"slot-until\"{(shown.Actions.State is SlotState.Expiring or SlotState.Expired ? " class=\"portal-warn\"" : "")}>"
        + $"<span title=\"{E(shown.Until.Exact)}\">{E(shown.Until.Short)}</span> <span>{E(shown.Expires)}</span></dd>"
        + (shown.Use is { } use ? $"<dt>Use</dt><dd data-testid=\"slot-use\" title=\"{E(use.Title)}\">{E(use.Short)}</dd>" : "")
        + "</dl>");

    /// <summary>What runs in a held slot: app@branch, commit and state of each deployment; nothing otherwise.</summary>
    public static MarkupString Deployments(SlotCardShown shown)
    {
        var slot = shown.Slot;
        if (slot.Hold is null || slot.Deployments.Count == 0)
        {
            return default;
        }

        var list = new StringBuilder("<ul class=\"portal-running\" data-testid=\"slot-deployments\">");
        foreach (var d in slot.Deployments)
        {
            list.Append($"<li data-testid=\"slot-deployment-{E(d.App)}\"><a href=\"/deployments/{d.Id}\">{E(d.App)}@{E(d.Branch)}</a> ");
            if (d.ShortCommit.Length > 0)
            {
                list.Append($"<code class=\"portal-muted\">{E(d.ShortCommit)}</code> ");
            }

            if (d.ImageDigest is { } digest)
            {
                list.Append($"<code class=\"portal-muted\" title=\"{E(digest)}\" data-testid=\"running-digest\">{E(d.ShortDigest)}</code> ");
            }

            list.Append($"<span class=\"{BoardStyles.Chip(DeploymentStateChip.ColorOf(d.State))}\" data-testid=\"deployment-state\" data-state=\"{d.State}\">{DeploymentStateChip.Label(d.State)}</span>");
            if (shown.ImageWaitOf(d.Id) is { } waiting)
            {
                list.Append($"<div class=\"portal-caption portal-muted\" data-testid=\"image-wait\">{E(waiting)}</div>");
            }

            list.Append("</li>");
        }

        return new MarkupString(list.Append("</ul>").ToString());
    }

    private static string Chip(Color color, Variant variant, string attributes, string content) =>
        $"<span class=\"{BoardStyles.Chip(color, variant)}\"{attributes}>{content}</span>";

    // Encodes what HTML needs (<, >, &, quotes) and leaves other characters as they are, as Blazor's own text frames do.
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    private static string E(string? text) => Html.Encode(text ?? "");
}

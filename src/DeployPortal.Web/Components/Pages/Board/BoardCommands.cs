using System.Security.Claims;
using DeployPortal.Web.Common;
using DeployPortal.Web.Slots;
using MudBlazor;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// What the board's buttons do: asks through a dialog where an action needs an answer or a confirmation, runs it
/// (one at a time per slot: a double click waits), and says how it went in a snackbar. Each method returns whether
/// something ran, so the board then reads the slots again.
/// </summary>
internal sealed class BoardCommands(
    HoldActions slots,
    SlotAdmin admin,
    IdleSlots idle,
    IdleGiveBack giveBack,
    IDialogService dialogs,
    ISnackbar snackbar,
    ILogger<BoardCommands> logger)
{
    private readonly HashSet<int> _busy = [];

    /// <summary>An action on this slot is running: its card shows a spinner and greys out its buttons.</summary>
    public bool IsBusy(int slotId) => _busy.Contains(slotId);

    /// <summary>A button pressed on a card. <paramref name="holdChoices"/> and <paramref name="defaultDuration"/> are the claim dialog's.</summary>
    public Task<bool> RunAsync(ClaimsPrincipal user, SlotCardRequest request, IReadOnlyList<TimeSpan> holdChoices, TimeSpan defaultDuration, CancellationToken ct)
    {
        var slot = request.Slot;
        return request.Command switch
        {
            SlotCardCommand.Claim => ClaimAsync(user, slot, holdChoices, defaultDuration, ct),
            SlotCardCommand.Extend => RunAsync(slot, () => slots.ExtendAsync(user, slot.Id, slot.Hold!.Id, request.By, slot.Hold.Until, ct),
                _ => $"{slot.Name} extended by {TimeText.Duration(request.By)}."),
            SlotCardCommand.Release => ReleaseAsync(user, slot, ct),
            SlotCardCommand.QaRelease => QaReleaseAsync(user, slot, ct),
            SlotCardCommand.ForceRelease => ForceReleaseAsync(user, slot, ct),
            SlotCardCommand.Edit => EditSlotAsync(user, slot, ct),
            SlotCardCommand.ToggleEnabled => RunAsync(slot, () => admin.SetEnabledAsync(user, slot.Id, !slot.Enabled, ct),
                s => s.Enabled ? $"{s.Name} is open for claims." : $"{s.Name} is disabled: no new claims."),
            SlotCardCommand.Sleep => SleepAsync(user, slot, ct),
            SlotCardCommand.Wake => RunAsync(slot, () => idle.WakeAsync(user, slot.Id, slot.Hold!.Id, ct), _ => $"{slot.Name} is waking up."),
            SlotCardCommand.Keep => RunAsync(slot, () => giveBack.KeepAsync(user, slot.Id, slot.Hold!.Id, ct), _ => $"{slot.Name} is yours; it will not be given back now."),
            _ => Task.FromResult(false),
        };
    }

    /// <summary>The admin's "Add slot" button.</summary>
    public async Task<bool> AddSlotAsync(ClaimsPrincipal user, CancellationToken ct)
    {
        var dialog = await dialogs.ShowAsync<SlotEditDialog>("Add slot");
        if (await dialog.Result is not { Canceled: false, Data: SlotEdit edit })
        {
            return false;
        }

        Show(await admin.AddSlotAsync(user, edit, ct), s => $"{s.Name} added.");
        return true;
    }

    private async Task<bool> ClaimAsync(ClaimsPrincipal user, SlotCard slot, IReadOnlyList<TimeSpan> choices, TimeSpan defaultDuration, CancellationToken ct)
    {
        var parameters = new DialogParameters<ClaimDialog>
        {
            { d => d.SlotName, slot.Name },
            { d => d.Choices, choices },
            { d => d.DefaultDuration, defaultDuration },
        };
        var dialog = await dialogs.ShowAsync<ClaimDialog>($"Claim {slot.Name}", parameters);
        return await dialog.Result is { Canceled: false, Data: ClaimDialog.Answer answer }
            && await RunAsync(slot, () => slots.ClaimAsync(user, new ClaimRequest(slot.Id, answer.Purpose, answer.Duration), ct),
                hold => $"{slot.Name} is yours for {TimeText.Duration(hold.Until - hold.Since)}.");
    }

    private async Task<bool> ReleaseAsync(ClaimsPrincipal user, SlotCard slot, CancellationToken ct) =>
        await dialogs.ShowMessageBoxAsync($"Release {slot.Name}?",
            $"You will no longer hold {slot.Name} ({slot.Hold?.Purpose}). Someone else can claim it straight away.",
            yesText: "Release", cancelText: "Keep it") == true
        && await RunAsync(slot, () => slots.ReleaseAsync(user, new ReleaseRequest(slot.Id, slot.Hold!.Id), ct), _ => $"{slot.Name} released.");

    private async Task<bool> QaReleaseAsync(ClaimsPrincipal user, SlotCard slot, CancellationToken ct)
    {
        var parameters = new DialogParameters<QaReleaseDialog>
        {
            { d => d.SlotName, slot.Name },
            { d => d.HolderName, slot.Hold!.HolderName },
            { d => d.Purpose, slot.Hold!.Purpose },
        };
        var dialog = await dialogs.ShowAsync<QaReleaseDialog>($"QA done on {slot.Name}", parameters);
        return await dialog.Result is { Canceled: false, Data: QaReleaseDialog.Answer answer }
            && await RunAsync(slot, () => slots.ReleaseAsync(user, new ReleaseRequest(slot.Id, slot.Hold!.Id, answer.Outcome, answer.Note), ct),
                _ => $"{slot.Name} released: QA {answer.Outcome.ToString().ToLowerInvariant()}.");
    }

    private async Task<bool> ForceReleaseAsync(ClaimsPrincipal user, SlotCard slot, CancellationToken ct) =>
        await dialogs.ShowMessageBoxAsync($"Force-release {slot.Name}?",
            $"{slot.Hold?.HolderName} holds {slot.Name} for \"{slot.Hold?.Purpose}\". Taking it back ends their hold now and is recorded in the history.",
            yesText: "Force release", cancelText: "Cancel") == true
        && await RunAsync(slot, () => slots.ReleaseAsync(user, new ReleaseRequest(slot.Id, slot.Hold!.Id), ct),
            _ => $"{slot.Name} taken back from {slot.Hold?.HolderName}.");

    private async Task<bool> SleepAsync(ClaimsPrincipal user, SlotCard slot, CancellationToken ct) =>
        await dialogs.ShowMessageBoxAsync($"Put {slot.Name} to sleep?",
            $"The apps in {slot.Name} are scaled to zero until someone wakes the slot or deploys to it. {slot.Hold?.HolderName} keeps the hold.",
            yesText: "Sleep", cancelText: "Cancel") == true
        && await RunAsync(slot, () => idle.SleepAsync(user, slot.Id, slot.Hold!.Id, ct), _ => $"{slot.Name} is going to sleep.");

    private async Task<bool> EditSlotAsync(ClaimsPrincipal user, SlotCard slot, CancellationToken ct)
    {
        var parameters = new DialogParameters<SlotEditDialog> { { d => d.Initial, new SlotEdit(slot.Name, slot.Namespace, slot.Description, slot.UrlPattern, slot.Position) } };
        var dialog = await dialogs.ShowAsync<SlotEditDialog>($"Edit {slot.Name}", parameters);
        return await dialog.Result is { Canceled: false, Data: SlotEdit edit }
            && await RunAsync(slot, () => admin.EditSlotAsync(user, slot.Id, edit, ct), s => $"{s.Name} saved.");
    }

    /// <summary>Runs one action on a slot, one at a time per slot, and reports the outcome. False when nothing ran to completion.</summary>
    private async Task<bool> RunAsync<T>(SlotCard slot, Func<Task<Result<T>>> action, Func<T, string> success)
    {
        if (!_busy.Add(slot.Id))
        {
            return false;
        }

        try
        {
            Show(await action(), success);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Action on {Slot} failed", slot.Name);
            snackbar.Add("That did not work: the database did not answer. Nothing was changed; try again.", Severity.Error);
            return false;
        }
        finally
        {
            _busy.Remove(slot.Id);
        }
    }

    private void Show<T>(Result<T> result, Func<T, string> success)
    {
        if (result.Succeeded)
        {
            snackbar.Add(success(result.Value!), Severity.Success);
        }
        else
        {
            snackbar.Add(result.Failure!.Message, result.Failure.Kind == FailureKind.Conflict ? Severity.Warning : Severity.Error);
        }
    }
}

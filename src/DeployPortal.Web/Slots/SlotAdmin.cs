using System.Security.Claims;
using System.Text.RegularExpressions;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Slot administration: adding slots, changing their name, namespace, description and URL, and opening or closing
/// them for claims. Admins only, checked here; the database's unique indexes decide name and namespace clashes.
/// </summary>
internal sealed partial class SlotAdmin(
    IDbContextFactory<PortalDb> dbFactory,
    SlotChangeNotifier notifier,
    TimeProvider clock,
    SlotNamespaces namespaces,
    HoldEndings endings,
    Refusals refusals)
{
    private DateTime Now => DbTime.UtcNow(clock);

    public async Task<Result<SlotCard>> AddSlotAsync(ClaimsPrincipal user, SlotEdit edit, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.Administer))
        {
            return await refusals.RefuseAsync(user, "Only an admin can add slots.", ct);
        }

        if ((ValidateSlot(edit) ?? namespaces.Check(edit.Namespace)) is { } invalid)
        {
            return invalid;
        }

        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var slot = new Slot { Name = edit.Name, Namespace = edit.Namespace, Description = edit.Description.Trim(), UrlPattern = edit.UrlPattern.Trim(), Position = edit.Position, CreatedAt = now };
        db.Slots.Add(slot);
        AuditWriter.Write(db, Actor.From(user), AuditActions.SlotAdded, slot, $"namespace {slot.Namespace}", now);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return await TakenAsync(slot, ct);
        }

        notifier.Publish(new SlotChange(slot.Id, AuditActions.SlotAdded));
        return Result<SlotCard>.Ok(SlotCard.Of(slot, null));
    }

    public async Task<Result<SlotCard>> EditSlotAsync(ClaimsPrincipal user, int slotId, SlotEdit edit, CancellationToken ct = default) =>
        await ChangeSlotAsync(user, slotId, ValidateSlot(edit) ?? namespaces.Check(edit.Namespace), AuditActions.SlotEdited, slot =>
        {
            slot.Name = edit.Name;
            slot.Namespace = edit.Namespace;
            slot.Description = edit.Description.Trim();
            slot.UrlPattern = edit.UrlPattern.Trim();
            slot.Position = edit.Position;
            return $"namespace {slot.Namespace}" + (edit.Position is { } position ? $", position {position}" : "");
        }, ct);

    public async Task<Result<SlotCard>> SetEnabledAsync(ClaimsPrincipal user, int slotId, bool enabled, CancellationToken ct = default)
    {
        var result = await ChangeSlotAsync(user, slotId, null, enabled ? AuditActions.SlotEnabled : AuditActions.SlotDisabled, slot =>
        {
            slot.Enabled = enabled;
            return enabled ? "open for claims" : "closed for new claims";
        }, ct);
        if (result.Succeeded && enabled)
        {
            await endings.OfferToQueueAsync(slotId); // a slot opened again is a slot freed for whoever waits
        }

        return result;
    }

    private async Task<Result<SlotCard>> ChangeSlotAsync(ClaimsPrincipal user, int slotId, Failure? invalid, string action,
        Func<Slot, string> change, CancellationToken ct)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.Administer))
        {
            return await refusals.RefuseAsync(user, "Only an admin can change slots.", ct, action);
        }

        if (invalid is not null)
        {
            return invalid;
        }

        await using var db = dbFactory.CreateDbContext();
        var slot = await db.Slots.FirstOrDefaultAsync(s => s.Id == slotId, ct);
        if (slot is null)
        {
            return Fail.NotFound("That slot does not exist.");
        }

        var details = change(slot);
        AuditWriter.Write(db, Actor.From(user), action, slot, details, Now);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return await TakenAsync(slot, ct);
        }

        notifier.Publish(new SlotChange(slot.Id, action));
        var hold = await db.Holds.AsNoTracking().FirstOrDefaultAsync(h => h.SlotId == slotId && h.ReleasedAt == null, ct);
        return Result<SlotCard>.Ok(SlotCard.Of(slot, hold));
    }

    private static Failure? ValidateSlot(SlotEdit edit)
    {
        if (!DnsLabel().IsMatch(edit.Name ?? ""))
        {
            return Fail.Invalid("A slot name must be 1–63 lower-case letters, digits or '-', starting and ending with a letter or digit.");
        }

        if (!DnsLabel().IsMatch(edit.Namespace ?? ""))
        {
            return Fail.Invalid("A namespace must be 1–63 lower-case letters, digits or '-', starting and ending with a letter or digit.");
        }

        if ((FreeText.Problem(edit.Description, multiline: true) ?? FreeText.Problem(edit.UrlPattern, multiline: false)) is { } problem)
        {
            return Fail.Invalid("The description or URL pattern " + problem);
        }

        if (edit.Position is < 1 or > 9999)
        {
            return Fail.Invalid("A position on the board must be a whole number from 1 to 9999, or empty for name order.");
        }

        return (edit.Description?.Length ?? 0) > 500 || (edit.UrlPattern?.Length ?? 0) > 300
            ? Fail.Invalid("The description can be at most 500 characters and the URL pattern 300.")
            : null;
    }

    /// <summary>Which unique rule a new or changed slot broke: another slot has its name, or its namespace.</summary>
    private async Task<Failure> TakenAsync(Slot slot, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        if (await db.Slots.AnyAsync(s => s.Id != slot.Id && s.Name == slot.Name, ct))
        {
            return Fail.Conflict($"A slot named {slot.Name} already exists.");
        }

        var other = await db.Slots.Where(s => s.Id != slot.Id && s.Namespace == slot.Namespace).Select(s => s.Name).FirstOrDefaultAsync(ct);
        return Fail.Conflict(other is null
            ? $"Another slot took the name {slot.Name} or the namespace {slot.Namespace} meanwhile. Look at the board and try again."
            : $"The namespace {slot.Namespace} belongs to {other}: each slot needs a namespace of its own, or deploying into one would replace the other's apps and releasing it would delete them.");
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}

using System.Security.Claims;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// Every state-changing operation on slots, and the roles that may perform it (DESIGN.md's role table).
/// "Own" operations act on a hold the acting person has; "others'" on a hold of another developer.
/// </summary>
public static class Matrix
{
    public const string Claim = "claim";
    public const string ExtendOwn = "extend-own";
    public const string ReleaseOwn = "release-own";
    public const string ExtendOthers = "extend-others";
    public const string QaReleaseOthers = "qa-release-others";
    public const string ForceReleaseOthers = "force-release-others";
    public const string AddSlot = "add-slot";
    public const string EditSlot = "edit-slot";
    public const string DisableSlot = "disable-slot";

    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        [Claim] = [PortalRoles.Developer, PortalRoles.QA, PortalRoles.Admin],
        [ExtendOwn] = [PortalRoles.Developer, PortalRoles.QA, PortalRoles.Admin],
        [ReleaseOwn] = [PortalRoles.Developer, PortalRoles.QA, PortalRoles.Admin],
        [ExtendOthers] = [],
        [QaReleaseOthers] = [PortalRoles.QA, PortalRoles.Admin],
        [ForceReleaseOthers] = [PortalRoles.Admin],
        [AddSlot] = [PortalRoles.Admin],
        [EditSlot] = [PortalRoles.Admin],
        [DisableSlot] = [PortalRoles.Admin],
    };

    public static readonly string[] SlotApiOperations = [Claim, ExtendOwn, ReleaseOwn, ExtendOthers, QaReleaseOthers, ForceReleaseOthers];

    public static IEnumerable<object[]> Cases(IEnumerable<string> operations) =>
        from op in operations
        from role in PortalRoles.All
        select new object[] { role, op, Allowed[op].Contains(role) };

    public static IEnumerable<object[]> AllCases() => Cases(Allowed.Keys);

    public static IEnumerable<object[]> ApiCases() => Cases(SlotApiOperations);

    public static ClaimsPrincipal Actor(string role) => TestUsers.Make("actor-" + role.ToLowerInvariant(), role + " Actor", role);

    /// <summary>The slots and holds, as text, to show that a refusal changed nothing.</summary>
    public static async Task<string> SnapshotAsync(IDbContextFactory<PortalDb> factory)
    {
        await using var db = factory.CreateDbContext();
        var slots = await db.Slots.AsNoTracking().OrderBy(s => s.Id).Select(s => $"{s.Id}:{s.Name}:{s.Namespace}:{s.Description}:{s.Enabled}").ToListAsync();
        var holds = await db.Holds.AsNoTracking().OrderBy(h => h.Id).ToListAsync();
        return string.Join('\n', slots.Concat(holds.Select(h => $"{h.Id}:{h.SlotId}:{h.HolderId}:{h.Until:O}:{h.ReleasedAt:O}:{h.ReleaseReason}")));
    }

    /// <summary>A hold inserted directly, so that even a role that may not claim can "own" one (e.g. demoted since).</summary>
    public static async Task<Hold> AddHoldAsync(IDbContextFactory<PortalDb> factory, int slotId, ClaimsPrincipal holder, DateTime now)
    {
        await using var db = factory.CreateDbContext();
        var actor = Web.Auth.Actor.From(holder);
        var hold = new Hold { SlotId = slotId, HolderId = actor.Id, HolderName = actor.Name, Purpose = "matrix", Since = now, Until = now.AddHours(2) };
        db.Holds.Add(hold);
        await db.SaveChangesAsync();
        return hold;
    }
}

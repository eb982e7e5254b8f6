using System.Security.Claims;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// The elastic pool's budget: how many elastic slots exist, how many may, and where the limit comes from. The slot count
/// is the configured <c>Slots:Elastic:MaxSlots</c> unless an admin set another on the slots page (stored in the
/// database, audited); <c>MaxCpu</c>/<c>MaxMemory</c> cap it further by what each slot's ResourceQuota requests.
/// </summary>
internal sealed class ElasticBudgets(
    IDbContextFactory<PortalDb> dbFactory,
    IOptionsMonitor<ElasticOptions> options,
    SlotChangeNotifier notifier,
    TimeProvider clock,
    Refusals refusals)
{
    /// <summary>The most slots an admin may set: a typo of 1000 should not let the portal make a thousand namespaces.</summary>
    public const int MaxSettable = 200;

    public async Task<ElasticBudgetView> GetAsync(CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        return await ReadAsync(db, ct);
    }

    /// <summary>The budget as <paramref name="db"/> sees it (inside the caller's transaction, when creating a slot).</summary>
    internal async Task<ElasticBudgetView> ReadAsync(PortalDb db, CancellationToken ct, ElasticBudget? row = null)
    {
        row ??= await db.ElasticBudgets.AsNoTracking().FirstOrDefaultAsync(b => b.Id == ElasticBudget.SingletonId, ct);
        var used = await db.Slots.CountAsync(s => s.Elastic && s.RemovedAt == null, ct);
        return View(options.CurrentValue, row, used);
    }

    internal static ElasticBudgetView View(ElasticOptions o, ElasticBudget? row, int used)
    {
        int? byResources = null;
        if (ElasticOptions.Amount(o.MaxCpu) is { } cpu && ElasticOptions.Amount(o.Quota.RequestsCpu) is > 0 and var perSlotCpu)
        {
            byResources = (int)Math.Floor(cpu / perSlotCpu);
        }

        if (ElasticOptions.Amount(o.MaxMemory) is { } memory && ElasticOptions.Amount(o.Quota.RequestsMemory) is > 0 and var perSlotMemory)
        {
            var byMemory = (int)Math.Floor(memory / perSlotMemory);
            byResources = byResources is { } c ? Math.Min(c, byMemory) : byMemory;
        }

        return new ElasticBudgetView(o.Enabled, used, row?.MaxSlots ?? o.MaxSlots, o.MaxSlots, byResources, row?.MaxSlots is not null, row?.ChangedByName, row?.ChangedAt,
            o.Quota.RequestsCpu, o.Quota.RequestsMemory);
    }

    /// <summary>Sets the budget in slots (admins only); null goes back to the configured default. Slots beyond a lowered budget stay until they are removed.</summary>
    public async Task<Result<ElasticBudgetView>> SetAsync(ClaimsPrincipal user, int? maxSlots, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.Administer))
        {
            return await refusals.RefuseAsync(user, "Only an admin can change the elastic budget.", ct);
        }

        if (maxSlots is < 0 or > MaxSettable)
        {
            return Fail.Invalid($"The elastic budget must be a whole number of slots from 0 to {MaxSettable}.");
        }

        var actor = Actor.From(user);
        var now = DbTime.UtcNow(clock);
        await using var db = dbFactory.CreateDbContext();
        var before = await ReadAsync(db, ct);
        var row = await db.ElasticBudgets.FirstOrDefaultAsync(b => b.Id == ElasticBudget.SingletonId, ct);
        if (row is null)
        {
            row = new ElasticBudget { Id = ElasticBudget.SingletonId };
            db.ElasticBudgets.Add(row);
        }

        (row.MaxSlots, row.ChangedByName, row.ChangedAt) = (maxSlots, actor.Name, now);
        var after = maxSlots is { } set ? $"{set} slots" : $"the configured {options.CurrentValue.MaxSlots} slots";
        AuditWriter.Write(db, actor, AuditActions.ElasticBudget, null, $"from {before.MaxSlots} to {after}" + (before.Used > (maxSlots ?? int.MaxValue)
            ? $"; {before.Used} exist, the surplus goes as each one is released" : ""), now);
        await db.SaveChangesAsync(ct);
        notifier.Publish(new SlotChange(0, AuditActions.ElasticBudget));
        return Result<ElasticBudgetView>.Ok(await ReadAsync(db, ct));
    }
}

/// <summary>
/// The elastic budget as the slots page shows it. <see cref="Max"/> is what creation checks: the slot count
/// (<see cref="MaxSlots"/>), lowered by <see cref="ByResources"/> when CPU or memory caps are set.
/// </summary>
internal sealed record ElasticBudgetView(bool Enabled, int Used, int MaxSlots, int ConfiguredMaxSlots, int? ByResources, bool Overridden, string? ChangedByName,
    DateTime? ChangedAt, string? CpuPerSlot, string? MemoryPerSlot)
{
    public int Max => ByResources is { } r && r < MaxSlots ? r : MaxSlots;

    public bool HasRoom => Enabled && Used < Max;

    /// <summary>"1 of 2 elastic slots in use".</summary>
    public string UsedText => $"{Used} of {Max} elastic slot{(Max == 1 ? "" : "s")} in use";
}

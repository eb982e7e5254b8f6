using System.Security.Claims;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Waitlist;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Makes elastic slots: when every slot is held and someone deploys or queues, a slot in a namespace of its own, within
/// the budget. Three steps, so nobody gets a slot without a namespace and nothing half-made stays:
/// <list type="number">
/// <item>In one transaction, count the pool against the budget and add the slot row, closed for claims. The count
/// cannot race: SQLite's transaction takes the write lock first; PostgreSQL locks the budget row (FOR UPDATE).</item>
/// <item>Make the namespace, its ResourceQuota and its LimitRange in the cluster.</item>
/// <item>Open the slot; the caller claims it at once. If the cluster refused, the namespace is deleted and the row
/// removed (or, for a reused row, marked removed again) and the person is told why. A crash between the steps leaves
/// a closed row with no hold, which <see cref="ElasticReaper"/> removes like any surplus slot.</item>
/// </list>
/// A removed elastic row is reused (same name, its history continued) before a new number is taken.
/// </summary>
internal sealed class ElasticPool(
    IDbContextFactory<PortalDb> dbFactory,
    IOptionsMonitor<ElasticOptions> options,
    ElasticBudgets budgets,
    HoldLedger ledger,
    HoldCap cap,
    ClusterGateway cluster,
    SlotNamespaces namespaces,
    WaitlistHandover handover,
    SlotChangeNotifier notifier,
    TimeProvider clock,
    ILogger<ElasticPool> logger)
{
    /// <summary>The slot id a deploy request names to mean "any free slot, or a new elastic one".</summary>
    public const int AnySlot = 0;

    /// <summary>
    /// For a deploy into "any slot": the claim's own checks first (purpose, length, fair-use cap), so a request that would
    /// be refused makes no slot; then <see cref="FreeOrNewAsync"/>.
    /// </summary>
    public async Task<Result<int>> ForDeployAsync(ClaimsPrincipal user, string? purpose, TimeSpan? holdFor, CancellationToken ct = default)
    {
        await using (var db = dbFactory.CreateDbContext())
        {
            if ((ledger.ValidateClaim(purpose, holdFor, out _) ?? await cap.RefusalAsync(db, user, DbTime.UtcNow(clock), ct)) is { } refused)
            {
                return refused;
            }
        }

        return await FreeOrNewAsync(Actor.From(user), ct);
    }

    /// <summary>A free slot to deploy into, else a new elastic slot; the first free slot in the board's order.</summary>
    public async Task<Result<int>> FreeOrNewAsync(Actor actor, CancellationToken ct = default)
    {
        var now = DbTime.UtcNow(clock);
        await using (var db = dbFactory.CreateDbContext())
        {
            var free = await db.Slots.AsNoTracking()
                .Where(s => s.Enabled && !db.Holds.Any(h => h.SlotId == s.Id && h.ReleasedAt == null && h.Until > now))
                .Select(s => new { s.Id, s.Name }).ToListAsync(ct);
            if (free.OrderBy(s => s.Name, NaturalOrder.Instance).FirstOrDefault() is { } first)
            {
                return Result<int>.Ok(first.Id);
            }
        }

        var made = await CreateAsync(actor, ct);
        return made.Succeeded ? Result<int>.Ok(made.Value!.Id) : made.Failure!;
    }

    /// <summary>The most slots one call of <see cref="ServeWaitingAsync"/> makes (the budget bounds them anyway).</summary>
    private const int MaxServedAtOnce = 20;

    /// <summary>
    /// Makes elastic slots for people waiting for any slot while no slot is free, within the budget, and hands each to the
    /// first in line at once. Called when someone joins the queue, and by the minutely removal job, which catches a join
    /// that met a cluster failure and a budget an admin raised. Returns how many were served.
    /// </summary>
    public async Task<int> ServeWaitingAsync(Actor actor, CancellationToken ct = default)
    {
        if (!options.CurrentValue.Enabled)
        {
            return 0;
        }

        var served = 0;
        for (var i = 0; i < MaxServedAtOnce; i++)
        {
            await using (var db = dbFactory.CreateDbContext())
            {
                var waiting = await db.Waitlist.AnyAsync(e => e.State == WaitlistState.Waiting && e.SlotId == null, ct);
                if (!waiting || await db.Slots.AnyAsync(s => s.Enabled && !db.Holds.Any(h => h.SlotId == s.Id && h.ReleasedAt == null), ct))
                {
                    break; // nobody waits for any slot, or a free slot is theirs through the usual hand-over
                }
            }

            var made = await CreateAsync(actor, ct);
            if (!made.Succeeded || await handover.OfferAsync(made.Value!.Id, CancellationToken.None) is null)
            {
                break;
            }

            served++;
        }

        return served;
    }

    /// <summary>A new elastic slot, open and free, with its namespace ready; or why none could be made.</summary>
    public async Task<Result<Slot>> CreateAsync(Actor actor, CancellationToken ct = default)
    {
        var o = options.CurrentValue;
        if (!o.Enabled)
        {
            return Fail.Conflict("Every slot is held. Join the queue: the first slot that frees is yours.");
        }

        var reserved = await ReserveAsync(o, ct);
        if (!reserved.Succeeded)
        {
            return reserved.Failure!;
        }

        var (slot, revived, budget) = reserved.Value!;
        try
        {
            await cluster.ApplyElasticNamespaceAsync(slot.Namespace, o, ct);
        }
        catch (Exception ex) when (ClusterRetries.IsClusterFailure(ex))
        {
            logger.LogWarning(ex, "Making elastic slot {Slot} failed; removing what was made", slot.Name);
            await UndoAsync(slot, revived);
            return Fail.Conflict($"A new slot could not be made: the cluster refused namespace {slot.Namespace} ({Describe(ex)}). "
                + "Nothing was left behind. Try again, or join the queue.");
        }

        var now = DbTime.UtcNow(clock);
        await using (var db = dbFactory.CreateDbContext())
        {
            await db.Slots.Where(s => s.Id == slot.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.Enabled, true), ct);
            AuditWriter.Write(db, actor, AuditActions.ElasticCreated, slot,
                $"namespace {slot.Namespace} for {actor.Name}; {budget.Used + 1} of {budget.Max} elastic slots", now);
            await db.SaveChangesAsync(CancellationToken.None);
        }

        slot.Enabled = true;
        logger.LogInformation("Made elastic slot {Slot} for {Actor} ({Used} of {Max})", slot.Name, actor.Name, budget.Used + 1, budget.Max);
        notifier.Publish(new SlotChange(slot.Id, AuditActions.ElasticCreated));
        return Result<Slot>.Ok(slot);
    }

    private async Task<Result<(Slot Slot, bool Revived, ElasticBudgetView Budget)>> ReserveAsync(ElasticOptions o, CancellationToken ct)
    {
        var now = DbTime.UtcNow(clock);
        await using var db = dbFactory.CreateDbContext();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        ElasticBudget? row = null;
        if (db is PostgresPortalDb)
        {
            row = await db.ElasticBudgets.FromSql($"""SELECT * FROM "ElasticBudget" WHERE "Id" = {ElasticBudget.SingletonId} FOR UPDATE""")
                .AsNoTracking().FirstOrDefaultAsync(ct);
        }

        var budget = await budgets.ReadAsync(db, ct, row);
        if (budget.Used >= budget.Max)
        {
            return Fail.Conflict($"Every slot is held and the elastic budget is spent ({budget.UsedText}). Join the queue: the first slot that frees is yours.");
        }

        var slot = await db.Slots.Where(s => s.Elastic && s.RemovedAt != null).OrderBy(s => s.Id).FirstOrDefaultAsync(ct);
        var revived = slot is not null;
        if (slot is null)
        {
            var taken = (await db.Slots.Select(s => new { s.Name, s.Namespace }).ToListAsync(ct)).SelectMany(s => new[] { s.Name, s.Namespace }).ToHashSet();
            var name = Enumerable.Range(1, int.MaxValue - 1).Select(i => o.NamePrefix + i).First(n => !taken.Contains(n));
            slot = new Slot { Name = name, Namespace = name, Elastic = true };
            db.Slots.Add(slot);
        }

        if (namespaces.Check(slot.Namespace) is { } refused)
        {
            return Fail.Conflict($"A new slot could not be made: {refused.Message}");
        }

        (slot.Enabled, slot.RemovedAt, slot.CreatedAt, slot.Description, slot.UrlPattern) = (false, null, now, o.Description, o.UrlPattern);
        (slot.CleaningSince, slot.CleaningHoldId) = (null, null);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return Result<(Slot, bool, ElasticBudgetView)>.Ok((slot, revived, budget));
    }

    /// <summary>
    /// After a failed creation: the namespace deleted and the row gone again (or, reused, marked removed again), so the
    /// budget is free. When even the deletion fails the row stays closed, and <see cref="ElasticReaper"/> retries it.
    /// </summary>
    private async Task UndoAsync(Slot slot, bool revived)
    {
        try
        {
            await cluster.DeleteNamespaceAsync(slot.Namespace, CancellationToken.None);
        }
        catch (Exception ex) when (ClusterRetries.IsClusterFailure(ex))
        {
            logger.LogWarning(ex, "Could not delete namespace {Namespace} after a failed creation; the removal job retries", slot.Namespace);
            return;
        }

        await using var db = dbFactory.CreateDbContext();
        var now = DbTime.UtcNow(clock);
        if (revived)
        {
            await db.Slots.Where(s => s.Id == slot.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.RemovedAt, now), CancellationToken.None);
        }
        else
        {
            await db.Slots.Where(s => s.Id == slot.Id).ExecuteDeleteAsync(CancellationToken.None);
        }
    }

    internal static string Describe(Exception ex) => ex switch
    {
        ClusterRejectedException r => $"{(int?)r.StatusCode} {r.Message}",
        k8s.Autorest.HttpOperationException h => $"it answered {(int)h.Response.StatusCode}",
        Polly.Timeout.TimeoutRejectedException => "it did not answer in time",
        _ => ex.Message,
    };
}

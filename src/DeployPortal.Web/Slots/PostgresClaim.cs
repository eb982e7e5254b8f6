using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Slots;

/// <summary>
/// PostgreSQL: a claim on a slot that looked free, as one statement (so one transaction and one round trip):
/// the hold and its audit event, or nothing at all when another claim holds the slot. The ON CONFLICT clause
/// names IX_Holds_ActivePerSlot by its column and predicate; like a plain insert it waits for a concurrent claim
/// to commit or roll back, so the index still decides, but a lost race inserts nothing and returns no id
/// instead of failing with a unique violation (a rollback, an exception, and EF logging it at Error). The hold
/// starts no earlier than the slot's last release, which may have committed after the caller took the time: the
/// slot's newest hold row is read FOR UPDATE, so a release still in flight is waited for and its ReleasedAt read
/// afresh (an aggregate over the statement's snapshot would miss it, and the history would show two holds overlapping).
/// <para>
/// Kept for the API contention benchmark: lost races were about two per won claim, and their exceptions alone took
/// 6 % of the portal's CPU there (commit 9524849). The SQL names tables and columns by hand, so
/// <c>PostgresClaimTests</c> checks every name in it against the EF model and runs it against a real PostgreSQL.
/// </para>
/// </summary>
internal static class PostgresClaim
{
    /// <summary>Inserts <paramref name="hold"/> and <paramref name="audit"/>; null when another claim holds the slot (nothing written).</summary>
    public static async Task<InsertedHold?> TryInsertAsync(PortalDb db, Hold hold, AuditEvent audit, CancellationToken ct)
    {
        var rows = await db.Database.SqlQuery<InsertedHold>(Sql(hold, audit)).ToListAsync(ct);
        return rows.Count == 0 ? null : rows[0];
    }

    internal static FormattableString Sql(Hold hold, AuditEvent audit) => $"""
        WITH last AS (
            SELECT "ReleasedAt" FROM "Holds" WHERE "SlotId" = {hold.SlotId} ORDER BY "Id" DESC LIMIT 1 FOR UPDATE),
        shift AS (
            SELECT COALESCE(GREATEST((SELECT "ReleasedAt" FROM last) - {hold.Since}, interval '0'), interval '0') AS "By"),
        hold AS (
            INSERT INTO "Holds" ("SlotId", "HolderId", "HolderName", "Purpose", "Since", "Until", "LastActivityAt", "LastActivityKind")
            SELECT {hold.SlotId}, {hold.HolderId}, {hold.HolderName}, {hold.Purpose}, {hold.Since} + shift."By", {hold.Until} + shift."By", {hold.LastActivityAt} + shift."By", {hold.LastActivityKind.ToString()}
            FROM shift
            ON CONFLICT ("SlotId") WHERE "ReleasedAt" IS NULL DO NOTHING
            RETURNING "Id", "Since", "Until"),
        audit AS (
            INSERT INTO "AuditEvents" ("At", "ActorId", "ActorName", "Action", "SlotId", "SlotName", "Details")
            SELECT {audit.At}, {audit.ActorId}, {audit.ActorName}, {audit.Action}, {audit.SlotId}, {audit.SlotName}, {audit.Details} FROM hold)
        SELECT "Id", "Since", "Until" FROM hold
        """;

    /// <summary>The columns the statement returns: the new hold's id and its (possibly shifted) start and end.</summary>
    internal sealed class InsertedHold
    {
        public long Id { get; set; }
        public DateTime Since { get; set; }
        public DateTime Until { get; set; }
    }
}

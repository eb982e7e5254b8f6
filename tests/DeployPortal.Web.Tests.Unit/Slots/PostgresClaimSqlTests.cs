using System.Text.RegularExpressions;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace DeployPortal.Web.Tests.Slots;

/// <summary>
/// The PostgreSQL claim statement names tables and columns by hand: every name in it is checked against the EF model,
/// so a renamed table or column fails here, not in production.
/// </summary>
public sealed partial class PostgresClaimSqlTests
{
    private static readonly DateTime Now = new(2026, 11, 26, 9, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Sql_NamesOnlyTheModelsTablesAndColumns()
    {
        // The model only: no connection is opened, so this fails on a renamed column even before a migration exists.
        using var db = new PostgresPortalDb(new DbContextOptionsBuilder<PostgresPortalDb>().UseNpgsql("Host=unused").Options);
        var (hold, audit) = HoldLedger.NewClaim(new Slot { Id = 1, Name = "qa-1", Namespace = "qa-1" }, new Actor("dana", "Dana"), "test", TimeSpan.FromHours(1), Now);
        var sql = PostgresClaim.Sql(hold, audit).Format;
        var holds = Table(db, typeof(Hold));
        var audits = Table(db, typeof(AuditEvent));

        var inserts = Insert().Matches(sql).ToDictionary(m => m.Groups["table"].Value, m => Quoted().Matches(m.Groups["columns"].Value).Select(c => c.Groups[1].Value).ToList());
        Assert.Equal(new[] { holds.Name, audits.Name }.Order(), inserts.Keys.Order());
        Assert.All(inserts[holds.Name], c => Assert.Contains(c, holds.Columns));
        Assert.All(inserts[audits.Name], c => Assert.Contains(c, audits.Columns));
        // Every other name: a Holds column (the shift, the conflict target, RETURNING) or the CTE's own "By".
        var others = Quoted().Matches(Insert().Replace(sql, "")).Select(m => m.Groups[1].Value).Where(n => n != "By");
        Assert.All(others, n => Assert.Contains(n, holds.Columns.Append(holds.Name)));
        Assert.All(typeof(PostgresClaim.InsertedHold).GetProperties(), p => Assert.Contains(p.Name, holds.Columns));
    }

    private static (string Name, IReadOnlyList<string> Columns) Table(PortalDb db, Type entity)
    {
        var type = db.Model.FindEntityType(entity)!;
        var table = StoreObjectIdentifier.Table(type.GetTableName()!, type.GetSchema());
        return (table.Name, [.. type.GetProperties().Select(p => p.GetColumnName(table)!)]);
    }

    [GeneratedRegex("""INSERT INTO "(?<table>\w+)" \((?<columns>[^)]*)\)""")]
    private static partial Regex Insert();

    [GeneratedRegex("\"(\\w+)\"")]
    private static partial Regex Quoted();
}

using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Audit;

/// <summary>The one audit writer: what it records, and how it clips each field to its column.</summary>
public sealed class AuditWriterTests
{
    private static readonly DateTime At = new(2026, 11, 26, 9, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Event_WithinEveryLimit_KeepsEveryFieldAsGiven()
    {
        var audit = AuditWriter.Event(new Actor("dana", "Dana Developer"), AuditActions.Claim, new Slot { Id = 7, Name = "qa-1", Namespace = "qa-1" }, "payment test", At);

        Assert.Equal((At, "dana", "Dana Developer", AuditActions.Claim, (int?)7, "qa-1", "payment test"),
            (audit.At, audit.ActorId, audit.ActorName, audit.Action, audit.SlotId, audit.SlotName, audit.Details));
    }

    [Theory]
    [InlineData(AuditWriter.DetailsMaxLength - 1)]
    [InlineData(AuditWriter.DetailsMaxLength)]
    [InlineData(AuditWriter.DetailsMaxLength + 1)]
    [InlineData(AuditWriter.DetailsMaxLength * 3)]
    public void Event_Details_AreClippedToTheirLimit_KeepingTheStart(int length)
    {
        var details = string.Concat(Enumerable.Range(0, length).Select(i => (char)('a' + i % 26)));

        var audit = AuditWriter.Event(Actor.System, AuditActions.Deploy, null, details, At);

        Assert.Equal(details[..Math.Min(length, AuditWriter.DetailsMaxLength)], audit.Details);
    }

    [Fact]
    public void Event_ActorIdAndName_AreClippedToTheirLimit()
    {
        // A sign-in refused for an over-long claim value still gets recorded.
        var id = new string('i', AuditWriter.ActorMaxLength + 50);
        var name = new string('n', AuditWriter.ActorMaxLength + 1);

        var audit = AuditWriter.Event(new Actor(id, name), AuditActions.SignInRefused, null, "", At);

        Assert.Equal((id[..AuditWriter.ActorMaxLength], name[..AuditWriter.ActorMaxLength]), (audit.ActorId, audit.ActorName));
    }

    [Fact]
    public void Event_ForNoSlot_OrASlotNotSavedYet_LinksNoSlot()
    {
        var none = AuditWriter.Event(Actor.System, AuditActions.TokenCreated, null, "ci", At);
        var unsaved = AuditWriter.Event(Actor.System, AuditActions.SlotAdded, new Slot { Name = "qa-9", Namespace = "qa-9" }, "namespace qa-9", At);

        Assert.Equal((null, null), (none.SlotId, none.SlotName));
        Assert.Equal((null, "qa-9"), (unsaved.SlotId, unsaved.SlotName));
    }

    [Fact]
    public void Limits_AreTheSchemasColumnLengths()
    {
        using var db = new SqlitePortalDb(new DbContextOptionsBuilder<SqlitePortalDb>().UseSqlite("Data Source=:memory:").Options);
        var entity = db.Model.FindEntityType(typeof(AuditEvent))!;

        Assert.Equal(
            (AuditWriter.ActorMaxLength, AuditWriter.ActorMaxLength, AuditWriter.ActionMaxLength, AuditWriter.SlotNameMaxLength, AuditWriter.DetailsMaxLength),
            (entity.FindProperty(nameof(AuditEvent.ActorId))!.GetMaxLength(), entity.FindProperty(nameof(AuditEvent.ActorName))!.GetMaxLength(),
                entity.FindProperty(nameof(AuditEvent.Action))!.GetMaxLength(), entity.FindProperty(nameof(AuditEvent.SlotName))!.GetMaxLength(),
                entity.FindProperty(nameof(AuditEvent.Details))!.GetMaxLength()));
    }

    [Fact]
    public void Write_AddsTheEventToTheContext()
    {
        using var db = new SqlitePortalDb(new DbContextOptionsBuilder<SqlitePortalDb>().UseSqlite("Data Source=:memory:").Options);

        var audit = AuditWriter.Write(db, Actor.System, AuditActions.Expire, null, "expired", At);

        Assert.Equal(EntityState.Added, db.Entry(audit).State);
    }
}

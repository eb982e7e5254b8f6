using System.Reflection;
using DeployPortal.Web.Audit;

namespace DeployPortal.Web.Tests.Audit;

public sealed class AuditActionsTests
{
    private static readonly string[] Declared = [.. typeof(AuditActions).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!)];

    [Fact]
    public void All_ListsEveryAction_SoTheHistoryFiltersShowEveryKindOfEvent()
    {
        // "idle-ask" and "keep" were once missing: the history's default filter never showed them.
        Assert.Equal(Declared.Order(), AuditActions.All.Order());
    }

    [Fact]
    public void EveryAction_HasWordsForPeople_AndDistinctOnes()
    {
        Assert.All(Declared, action => Assert.NotEqual(action, AuditActions.Label(action)));
        Assert.Equal(Declared.Length, Declared.Select(AuditActions.Label).Distinct().Count());
        Assert.Equal("QA done", AuditActions.Label(AuditActions.QaDone));
        Assert.Equal("unknown-thing", AuditActions.Label("unknown-thing")); // an event from a newer version stays readable
    }
}

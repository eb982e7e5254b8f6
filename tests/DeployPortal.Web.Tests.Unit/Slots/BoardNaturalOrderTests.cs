using DeployPortal.Web.Slots;

namespace DeployPortal.Web.Tests.Slots;

/// <summary>Slots are listed as people count them (issue 22: with 40 slots the board read qa-1, qa-10, qa-11 … qa-2).</summary>
public sealed class BoardNaturalOrderTests
{
    [Fact]
    public void DigitsCompareAsNumbers()
    {
        string[] names = ["qa-10", "qa-2", "qa-1", "qa-11", "qa-20", "qa-3"];

        Assert.Equal(["qa-1", "qa-2", "qa-3", "qa-10", "qa-11", "qa-20"], names.Order(NaturalOrder.Instance));
    }

    [Fact]
    public void LettersIgnoreCase_AndPrefixesComeFirst()
    {
        string[] names = ["staging", "QA-2", "qa-1", "demo", "qa"];

        Assert.Equal(["demo", "qa", "qa-1", "QA-2", "staging"], names.Order(NaturalOrder.Instance));
    }

    [Fact]
    public void TiesAreBrokenOrdinally_SoTheOrderIsStable()
    {
        Assert.NotEqual(0, NaturalOrder.Instance.Compare("qa-1", "QA-1"));
        Assert.NotEqual(0, NaturalOrder.Instance.Compare("qa-01", "qa-1"));
        Assert.Equal(-NaturalOrder.Instance.Compare("qa-01", "qa-1"), NaturalOrder.Instance.Compare("qa-1", "qa-01"));
        Assert.Equal(0, NaturalOrder.Instance.Compare("qa-1", "qa-1"));
        string[] shuffled = ["qa-1", "QA-1", "qa-01"];
        Assert.Equal(shuffled.Order(NaturalOrder.Instance), shuffled.Reverse().Order(NaturalOrder.Instance));
    }

    [Fact]
    public void NumbersLongerThanALong_AndNulls()
    {
        Assert.True(NaturalOrder.Instance.Compare("build-99999999999999999999", "build-100000000000000000000") < 0);
        Assert.True(NaturalOrder.Instance.Compare(null, "qa-1") < 0);
    }
}

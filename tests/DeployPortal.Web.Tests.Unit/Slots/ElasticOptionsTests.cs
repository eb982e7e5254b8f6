using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;

namespace DeployPortal.Web.Tests.Slots;

/// <summary>The elastic pool's settings rules, and how CPU and memory caps turn into a slot count.</summary>
public sealed class ElasticOptionsTests
{
    [Fact]
    public void ShippedDefaults_Pass_AndThePoolIsOff()
    {
        var defaults = new ElasticOptions();
        Assert.True(new ElasticOptionsValidator().Validate(null, defaults).Succeeded);
        Assert.False(defaults.Enabled);
    }

    [Fact]
    public void WrongValues_AreEachNamedByTheirKey()
    {
        var result = new ElasticOptionsValidator().Validate(null, new ElasticOptions
        {
            MaxSlots = -1,
            RemoveAfter = TimeSpan.Zero,
            NamePrefix = "QA_",
            MaxCpu = "lots",
            MaxMemory = "16Gi",
            Quota = new ElasticQuota { RequestsMemory = null, Pods = 0, LimitsCpu = "4 cores" },
        });

        var failures = result.Failures!.ToList();
        Assert.Contains("Slots:Elastic:MaxSlots must not be negative.", failures);
        Assert.Contains("Slots:Elastic:RemoveAfter must be positive.", failures);
        Assert.Contains(failures, f => f.StartsWith("Slots:Elastic:NamePrefix must be", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Slots:Elastic:MaxCpu must be a Kubernetes quantity", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Slots:Elastic:MaxMemory needs Slots:Elastic:Quota:RequestsMemory", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Every Slots:Elastic:Quota value", StringComparison.Ordinal));
        Assert.Contains("Slots:Elastic:Quota:Pods must be positive.", failures);
    }

    [Theory]
    [InlineData(null, null, 5, 5)] // slots only
    [InlineData("8", null, 5, 4)] // 8 CPU at 2 per slot
    [InlineData("7500m", "64Gi", 5, 3)] // CPU allows 3, memory 16
    [InlineData("100", "10Gi", 5, 2)] // memory allows 2 at 4Gi each
    [InlineData("100", "100Gi", 5, 5)] // resources allow more than the slot count
    public void Budget_IsTheSmallestOfSlotsCpuAndMemory(string? maxCpu, string? maxMemory, int maxSlots, int expected)
    {
        var options = new ElasticOptions { Enabled = true, MaxSlots = maxSlots, MaxCpu = maxCpu, MaxMemory = maxMemory };
        var view = ElasticBudgets.View(options, null, used: 1);
        Assert.Equal(expected, view.Max);
        Assert.Equal(expected > 1, view.HasRoom);

        // An admin's number replaces the configured slot count, still capped by resources.
        var overridden = ElasticBudgets.View(options, new ElasticBudget { Id = 1, MaxSlots = 1, ChangedByName = "Ada Admin" }, used: 1);
        Assert.Equal(1, overridden.Max);
        Assert.False(overridden.HasRoom);
        Assert.True(overridden.Overridden);
    }
}

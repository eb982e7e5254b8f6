using System.Text.Json;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Shipping;

/// <summary>
/// The GC settings the portal ships (its runtimeconfig, from the project file) are the ones the circuit benchmark
/// measures: tests/bench.sh hands each to the test host, and the memory figure in the README depends on the gen0 cap.
/// </summary>
public sealed class GcSettingsTests
{
    private static readonly IReadOnlyDictionary<string, JsonElement> Shipped = JsonDocument
        .Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "DeployPortal.Web.runtimeconfig.json")))
        .RootElement.GetProperty("runtimeOptions").GetProperty("configProperties")
        .EnumerateObject().Where(p => p.Name.StartsWith("System.GC.", StringComparison.Ordinal)).ToDictionary(p => p.Name, p => p.Value);

    [Fact]
    public void ThePortal_ShipsServerGc_WithoutDatas_AndACappedGen0()
    {
        Assert.True(Shipped["System.GC.Server"].GetBoolean());
        Assert.Equal(0, Shipped["System.GC.DynamicAdaptationMode"].GetInt32());
        Assert.InRange(Shipped["System.GC.Gen0MaxBudget"].GetInt64(), 16L << 20, 128L << 20);
    }

    [Fact]
    public void TheBenchmark_HandsEveryShippedGcSetting_ToTheTestHost()
    {
        var bench = ShippingFiles.Read("tests/bench.sh");
        Assert.All(Shipped.Keys, key => Assert.Contains($"    {key}) gc_env+=(\"DOTNET_", bench));
    }
}

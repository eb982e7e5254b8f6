using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Tests.Deployments;

/// <summary>The embedded default's in-process emulator, as <c>dotnet run</c> starts it.</summary>
public sealed class EmbeddedEmulatorTests
{
    [Fact]
    public async Task EmbeddedEmulator_ListensOnAPortItChose_WithoutChangingTheConfiguredClusterSettings()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var host = PortalHost.EmbeddedDefault(database);
        host.Start();

        var configured = host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        var emulator = host.Services.GetRequiredService<EmulatorHost>();
        var namespaces = await host.Services.GetRequiredService<IKubernetes>().CoreV1.ListNamespaceAsync();

        Assert.Equal(0, configured.Emulator.Port); // as configured: "pick a free port"
        Assert.NotEqual(0, emulator.BaseAddress.Port);
        Assert.NotNull(namespaces.Items);
    }
}

using DeployPortal.Web.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>The registry feature as the portal wires it (<c>AddRegistry()</c>), with the given <c>Registry</c> settings.</summary>
internal sealed class RegistryHarness : IAsyncDisposable
{
    private readonly WebApplication _app;

    public RegistryHarness(IDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddRegistry();
        _app = builder.Build();
    }

    public ImageCheck Images => _app.Services.GetRequiredService<ImageCheck>();

    public RegistryClient Client => _app.Services.GetRequiredService<RegistryClient>();

    /// <summary>Settings for one registry at <paramref name="host"/> over plain HTTP, with short timeouts so "slow" is quick to see.</summary>
    public static Dictionary<string, string?> For(string host, string? user = null, string? password = null) => new()
    {
        ["Registry:Registries:0:Host"] = host,
        ["Registry:Registries:0:PlainHttp"] = "true",
        ["Registry:Registries:0:Username"] = user,
        ["Registry:Registries:0:Password"] = password,
        ["Registry:Timeout"] = "00:00:02",
        ["Registry:AttemptTimeout"] = "00:00:00.800",
        ["Registry:Retries"] = "1",
    };

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}

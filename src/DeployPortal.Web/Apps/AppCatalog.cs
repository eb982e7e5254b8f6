using DeployPortal.Web.Data;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Apps;

/// <summary>The apps that can be deployed: configured ones, plus the demo apps when enabled.</summary>
internal sealed class AppCatalog(IOptionsMonitor<AppsOptions> options, IOptions<PortalOptions> portal, IHostEnvironment environment)
{
    public IReadOnlyList<AppDefinition> All
    {
        get
        {
            var configured = options.CurrentValue.Items;
            return options.CurrentValue.Demo ? [.. configured, .. DemoRepository.Apps(DemoRepository.PathIn(portal.Value.ResolveDataPath(environment)))] : configured;
        }
    }

    public AppDefinition? Find(string? name) => All.FirstOrDefault(a => a.Name == name);
}

using Hangfire;
using Hangfire.InMemory;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// The portal's own composition (its Program) given a deployment's environment variables, started without its
/// hosted services and with in-memory job storage so that nothing connects anywhere. Starting runs every
/// <c>ValidateOnStart</c> check the real portal runs, so a setting that a compose file or chart forgot, or got
/// wrong, fails here as it would fail the container at start.
/// </summary>
internal sealed class PortalSettings(IReadOnlyDictionary<string, string> environment) : WebApplicationFactory<Program>
{
    /// <summary>Starts it (throws what the portal would throw at start) and returns it for reading the bound options.</summary>
    public static PortalSettings Start(IReadOnlyDictionary<string, string> environment)
    {
        var settings = new PortalSettings(environment);
        try
        {
            _ = settings.Services;
            return settings;
        }
        catch
        {
            settings.Dispose();
            throw;
        }
    }

    public T Get<T>() where T : class => Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<T>>().Value;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment.GetValueOrDefault("ASPNETCORE_ENVIRONMENT", "Production"));
        foreach (var (name, value) in environment)
        {
            // Environment variables use __ for the configuration's ':' separator.
            builder.UseSetting(name.Replace("__", ":", StringComparison.Ordinal), value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<IHostedService>();
            services.RemoveAll<JobStorage>();
            services.AddSingleton<JobStorage>(new InMemoryStorage());
        });
    }
}

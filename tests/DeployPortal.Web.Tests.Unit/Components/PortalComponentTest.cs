using Bunit;
using Bunit.TestDoubles;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Registry;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using DeployPortal.Web.Waitlist;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace DeployPortal.Web.Tests.Components;

/// <summary>
/// The shared bunit context: MudBlazor, a signed-in user, and the real slot services over a real SQLite
/// database (the harness), so a component test exercises the same rules the running portal does.
/// </summary>
public abstract class PortalComponentTest : BunitContext, IAsyncLifetime
{
    // bunit's default of one second for WaitFor* is too short when the whole suite shares two cores (seen in a
    // CI-like run: a board waiting for its first card); a wait still ends as soon as its condition holds.
    static PortalComponentTest() => DefaultWaitTimeout = TimeSpan.FromSeconds(10);

    private protected SlotHarness Harness { get; private set; } = default!;

    protected BunitAuthorizationContext Auth { get; private set; } = default!;

    /// <summary>Replaces the database factory the page sees, e.g. with one that stalls or fails.</summary>
    protected IDbContextFactory<PortalDb>? PageDatabase { get; set; }

    public virtual async Task InitializeAsync()
    {
        Harness = await SlotHarness.CreateAsync(DatabaseProvider.Sqlite);
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        AddPortalServices();

        // What the harness owns instead of the portal's composition: the database (or the page's stand-in for
        // it), the clock the test moves, the notifier and recorded jobs and events the test reads, and its options.
        Services.AddSingleton<IDbContextFactory<PortalDb>>(_ => new PageFactory(this));
        Services.AddSingleton<TimeProvider>(Harness.Clock);
        Services.AddSingleton(Harness.Notifier);
        Services.AddSingleton<IBackgroundJobClient>(Harness.Jobs);
        Services.AddSingleton(Harness.Events.Events);
        Services.AddSingleton<IOptionsMonitor<HoldOptions>>(Harness.Options);
        Services.AddSingleton<IOptionsMonitor<IdleOptions>>(Harness.IdleOptions);
        Services.AddSingleton<IOptionsMonitor<ClusterOptions>>(Harness.ClusterOptions);
        Services.AddSingleton<IOptionsMonitor<NotificationOptions>>(Harness.NotificationOptions);
        Auth = AddAuthorization();
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    /// <summary>
    /// The portal's own registrations, the same <c>AddX()</c> calls its Program makes (without the background
    /// services a component never needs), so a page gets the services it gets in production.
    /// </summary>
    private void AddPortalServices()
    {
        var portal = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        portal.AddSlots();
        portal.Services.AddBoard();
        portal.AddWaitlist();
        portal.AddCluster();
        portal.AddRegistry();
        portal.AddDeployments();
        portal.AddNotifications();
        foreach (var service in portal.Services.Where(s => s.ServiceType != typeof(IHostedService)))
        {
            Services.Add(service);
        }
    }

    /// <summary>The harness's database, or <see cref="PageDatabase"/> once a test sets it.</summary>
    private sealed class PageFactory(PortalComponentTest test) : IDbContextFactory<PortalDb>
    {
        public PortalDb CreateDbContext() => (test.PageDatabase ?? test.Harness.Database.Factory).CreateDbContext();
    }

    protected void SignInAs(System.Security.Claims.ClaimsPrincipal user)
    {
        var identity = user.Identity!;
        Auth.SetAuthorized(identity.Name!);
        Auth.SetRoles([.. user.Claims.Where(c => c.Type == Web.Auth.PortalClaims.Role).Select(c => c.Value)]);
        Auth.SetClaims([.. user.Claims.Where(c => c.Type != Web.Auth.PortalClaims.Role)]);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Harness.DisposeAsync();
    }
}

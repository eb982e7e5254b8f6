using Bunit;
using Bunit.TestDoubles;
using DeployPortal.Web.Apps;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Data;
using DeployPortal.Web.Git;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using DeployPortal.Web.Waitlist;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
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

    protected SlotHarness Harness { get; private set; } = default!;

    protected BunitAuthorizationContext Auth { get; private set; } = default!;

    /// <summary>Replaces the database factory the page sees, e.g. with one that stalls or fails.</summary>
    protected IDbContextFactory<PortalDb>? PageDatabase { get; set; }

    public virtual async Task InitializeAsync()
    {
        Harness = await SlotHarness.CreateAsync(DatabaseProvider.Sqlite);
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<TimeProvider>(Harness.Clock);
        Services.AddSingleton(Harness.Notifier);
        Services.AddSingleton<IOptionsMonitor<HoldOptions>>(Harness.Options);
        Services.AddScoped(_ => Harness.Build(PageDatabase ?? Harness.Database.Factory));
        Services.AddScoped(sp => sp.GetRequiredService<SlotRooms>().Refusals);
        Services.AddScoped(sp => sp.GetRequiredService<SlotRooms>().Ledger);
        Services.AddScoped(sp => sp.GetRequiredService<SlotRooms>().Cap);
        Services.AddScoped(sp => sp.GetRequiredService<SlotRooms>().Endings);
        Services.AddScoped(sp => sp.GetRequiredService<SlotRooms>().Actions);
        Services.AddScoped(sp => sp.GetRequiredService<SlotRooms>().Admin);
        Services.AddScoped(sp => sp.GetRequiredService<SlotRooms>().Sweep);
        Services.AddScoped(sp => sp.GetRequiredService<SlotRooms>().Board);
        Services.AddSingleton<BoardSnapshot>();
        Services.AddSingleton(_ => PageDatabase ?? Harness.Database.Factory); // BoardFeed asks whether anything was ever deployed
        Services.AddSingleton<BoardClock>();
        Services.AddBoard();
        Services.AddScoped(_ => new AuditQueries(PageDatabase ?? Harness.Database.Factory));
        Services.AddSingleton<IOptionsMonitor<IdleOptions>>(Harness.IdleOptions);
        Services.AddScoped(sp => new IdleSlots(PageDatabase ?? Harness.Database.Factory, sp.GetRequiredService<Refusals>(), Harness.Notifier, Harness.Clock,
            Harness.IdleOptions, Harness.Jobs));
        Services.AddScoped(sp => new IdleGiveBack(PageDatabase ?? Harness.Database.Factory, sp.GetRequiredService<Refusals>(), sp.GetRequiredService<HoldSweep>(), Harness.Notifier,
            Harness.Events.Events, Harness.Clock, Harness.IdleOptions, NullLogger<IdleGiveBack>.Instance));
        // The queue panel on the board: the real waitlist service, with no apps configured (component tests queue through the harness).
        Services.AddScoped(sp => new WaitlistService(PageDatabase ?? Harness.Database.Factory, sp.GetRequiredService<HoldLedger>(), sp.GetRequiredService<Refusals>(), Harness.Handover,
            new AppCatalog(new TestOptionsMonitor<AppsOptions>(new AppsOptions()), Options.Create(new PortalOptions()), new TestHostEnvironment()),
            new BranchCatalog(new GitClient(NullLogger<GitClient>.Instance), new MemoryCache(new MemoryCacheOptions())),
            Harness.Notifier, Harness.Clock, Harness.Options, NullLogger<WaitlistService>.Instance));
        Services.AddScoped(_ => new NotificationPreferences(PageDatabase ?? Harness.Database.Factory, Harness.Clock));
        Auth = AddAuthorization();
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
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

using DeployPortal.Web.Api;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Components;
using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Health;
using DeployPortal.Web.Insights;
using DeployPortal.Web.Jobs;
using DeployPortal.Web.Logs;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Registry;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Telemetry;
using DeployPortal.Web.Waitlist;
using MudBlazor.Services;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddMudServices(mud =>
{
    // Every circuit's popover service runs a periodic timer from the moment it is created, menu or not, only to detach
    // closed popovers' JavaScript in batches. At MudBlazor's 0.5 s that is 10,000 timer fires a second for 5,000 open
    // boards; every 5 s it is a tenth of that, and a closed menu's script is let go up to 5 s later.
    mud.PopoverOptions.QueueDelay = TimeSpan.FromSeconds(5);
});
builder.AddData();
builder.AddPortalAuth();
builder.AddJobs();
builder.AddSlots();
builder.Services.AddBoard();
builder.AddWaitlist();
builder.AddCluster();
builder.AddRegistry();
builder.AddDeployments();
builder.AddApi();
builder.AddLogs();
builder.AddNotifications();
builder.AddInsights();
builder.AddHealth();
builder.AddTelemetry();

var app = builder.Build();

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/Error", createScopeForErrors: true);
    app.UseHsts();
}

app.UseWakeOnAccess();
app.UsePlainHttpGuard();
app.UseSecurityHeaders();
app.UseCircuitShutdown();
app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
app.UseApiErrors();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();
app.UseAntiforgery();

app.MapStaticAssets().AllowAnonymous();
app.MapHealth();
app.MapPortalAuth();
app.MapJobsDashboard();
app.MapSlotJobs();
app.MapDeploymentJobs();
app.MapApi();
app.MapLogDownloads();
app.MapHistoryExport();
app.MapMetricsEndpoint();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Run();

/// <summary>Entry point, visible to <c>WebApplicationFactory</c> in tests.</summary>
public partial class Program;

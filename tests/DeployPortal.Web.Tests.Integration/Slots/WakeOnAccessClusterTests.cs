using System.Net;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using k8s;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace DeployPortal.Web.Tests.Slots;

/// <summary>
/// Wake on access against the emulator through the real KubernetesClient: asleep, the app's Ingress points at the
/// portal (an ExternalName Service); a visit to the app's address gets the wake page, wakes the slot once, and the
/// Ingress goes back to the app when its pods are ready.
/// </summary>
public sealed class WakeOnAccessClusterTests : IAsyncLifetime
{
    private const string PortalService = "deployportal.deployportal.svc.cluster.local";
    private const string StorefrontHost = "storefront.qa-1.test.example.com";
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private DeployHarness _h = default!;
    private HttpClient _http = default!;

    public async Task InitializeAsync()
    {
        _h = await DeployHarness.CreateAsync(startHost: false);
        var host = _h.StartHost(new Dictionary<string, string?> { ["Cluster:WakeHost"] = PortalService }, s => s.AddSingleton<TimeProvider>(_clock));
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = host.Start() }; // the portal's own pages redirect to sign-in
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _h.DisposeAsync();
    }

    [Fact]
    public async Task Asleep_IngressLeadsToThePortal_AVisitWakesItOnce_AndTheIngressGoesBackWhenReady()
    {
        await DeployAndSleepAsync();
        var wake = await _h.Kubernetes.CoreV1.ReadNamespacedServiceAsync(ManifestBuilder.WakeServiceName, "qa-1");
        Assert.Equal(("ExternalName", PortalService), (wake.Spec.Type, wake.Spec.ExternalName));

        // Someone opens the app: the portal answers on the app's address, wakes the slot, and says so.
        var (status, page) = await VisitAsync(StorefrontHost);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("<h1 data-testid=\"wake-title\">storefront in qa-1 is asleep — waking it</h1>", page);
        Assert.Matches(@"[0-2] of 2 pods ready", page);
        Assert.Contains("http-equiv=\"refresh\"", page);
        await VisitAsync(StorefrontHost); // the page's own reload, or a second visitor: still one wake

        // The pods come back ready; only then does the Ingress lead to the app again, and the wake Service goes.
        await WaitForIngressBackendAsync("storefront");
        var deployment = await _h.Kubernetes.AppsV1.ReadNamespacedDeploymentAsync("storefront", "qa-1");
        Assert.Equal(2, deployment.Status.AvailableReplicas);
        await WaitForNoWakeServiceAsync(); // deleted just after the Ingress is pointed back
        var (_, ready) = await VisitAsync(StorefrontHost);
        Assert.Contains("storefront in qa-1 is awake", ready);
        await using var db = _h.Database.Factory.CreateDbContext();
        Assert.Equal(1, await db.AuditEvents.CountAsync(a => a.Action == AuditActions.Wake));
        Assert.All(await db.Holds.ToListAsync(), h => Assert.Null(h.SleepingSince));
    }

    [Fact]
    public async Task AVisitWhileTheClusterIsDown_SaysSoAndKeepsTrying_AndOtherHostsAreNotTheWakePage()
    {
        await DeployAndSleepAsync();
        _h.Emulator.Options.Faults.ErrorStatusCodes = [503];
        _h.Emulator.Options.Faults.ErrorRate = 1;

        var (status, page) = await VisitAsync(StorefrontHost);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("The cluster is not answering right now. This page keeps trying.", page);
        Assert.Contains("http-equiv=\"refresh\"", page);

        // An app the portal does not know, in a held slot, and a slot nobody holds: not the wake page.
        var (_, unknown) = await VisitAsync("nope.qa-1.test.example.com");
        Assert.DoesNotContain("wake-title", unknown);
        var (_, free) = await VisitAsync("storefront.qa-2.test.example.com");
        Assert.DoesNotContain("wake-title", free);

        // The cluster answers again: the wake job's retry brings the app back and the Ingress with it.
        _h.Emulator.Options.Faults.ErrorRate = 0;
        var (_, again) = await VisitAsync(StorefrontHost);
        Assert.Matches("of 2 pods ready|is awake", again);
    }

    private async Task DeployAndSleepAsync()
    {
        var done = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "storefront", "main", "qa-1")).Id);
        Assert.Equal(DeploymentState.Succeeded, done.State);
        _clock.Advance(TimeSpan.FromMinutes(31));
        var sleep = _h.Service<IdleSleep>(out var scope);
        using (scope)
        {
            await sleep.RunAsync(); // or the portal's own minutely run gets there first: either way, asleep
        }

        await using (var db = _h.Database.Factory.CreateDbContext())
        {
            Assert.NotNull((await db.Holds.SingleAsync(h => h.Id == done.HoldId)).SleepingSince);
        }

        await _h.WaitForDeploymentAsync("qa-1", "storefront", d => d.Spec.Replicas == 0);
        await WaitForIngressBackendAsync(ManifestBuilder.WakeServiceName);
    }

    private async Task<(HttpStatusCode, string)> VisitAsync(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = host;
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task WaitForNoWakeServiceAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await _h.Kubernetes.CoreV1.ListNamespacedServiceAsync("qa-1")).Items.Any(s => s.Metadata.Name == ManifestBuilder.WakeServiceName))
        {
            Assert.True(DateTime.UtcNow < deadline, "the wake Service is still there 20 s after the Ingress went back to the app");
            await Task.Delay(100);
        }
    }

    private async Task WaitForIngressBackendAsync(string service)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var ingress = await _h.Kubernetes.NetworkingV1.ReadNamespacedIngressAsync("storefront", "qa-1");
            var backend = ingress.Spec.Rules[0].Http.Paths[0].Backend.Service.Name;
            if (backend == service)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the Ingress still leads to {backend}, not {service}");
            await Task.Delay(100);
        }
    }
}

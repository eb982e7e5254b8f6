using Bunit;
using DeployPortal.KubeEmulator;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Tests.Infrastructure;
using k8s;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DeployPortal.Web.Tests.Components;

/// <summary>The pod list of the deployment page, following the Kubernetes API emulator through the real gateway.</summary>
public sealed class PodWatchTests : BunitContext, IAsyncLifetime
{
    // The page's clock stands still unless the test moves it, so every update after the first render falls inside the
    // 200 ms render throttle.
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 4, 9, 0, 0, TimeSpan.Zero));
    private EmulatorServer _emulator = default!;
    private Kubernetes _kubernetes = default!;
    private ClusterGateway _cluster = default!;

    public async Task InitializeAsync()
    {
        _emulator = await EmulatorServer.StartAsync(new EmulatorOptions
        {
            PodPendingDelay = TimeSpan.FromMilliseconds(20),
            ContainerCreatingDelay = TimeSpan.FromMilliseconds(20),
            ReadyDelay = TimeSpan.FromMilliseconds(20),
            ReconcileInterval = TimeSpan.FromMilliseconds(10),
        });
        _kubernetes = new Kubernetes(new KubernetesClientConfiguration { Host = _emulator.BaseAddress.ToString() });
        _cluster = new ClusterGateway(_kubernetes, Microsoft.Extensions.Options.Options.Create(new ClusterOptions { RetryDelay = TimeSpan.FromMilliseconds(50) }),
            NullLogger<ClusterGateway>.Instance);
        Services.AddSingleton(_cluster);
        Services.AddSingleton(new PodWatcher(_cluster, Microsoft.Extensions.Options.Options.Create(new ClusterOptions { RetryDelay = TimeSpan.FromMilliseconds(50) })));
        Services.AddSingleton<TimeProvider>(_clock);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        _kubernetes.Dispose();
        await _emulator.DisposeAsync();
    }

    [Fact]
    public async Task PodWatch_ABurstOfUpdates_ShowsTheLastOne_WhenNothingFollowsIt()
    {
        await _cluster.EnsureNamespaceAsync("qa-1", default);
        var cut = Render<PodWatch>(p => p
            .Add(x => x.Namespace, "qa-1")
            .Add(x => x.App, "web")
            .Add(x => x.ChildContent, (RenderFragment<PodsState>)(state => builder =>
                builder.AddMarkupContent(0, $"<p id=\"pods\">{string.Join(",", state.Pods?.Select(pod => $"{pod.Phase}/{(pod.Ready ? "ready" : "not-ready")}") ?? ["none"])}</p>"))));
        cut.WaitForAssertion(() => Assert.Equal("", cut.Find("#pods").TextContent), TimeSpan.FromSeconds(20)); // the first answer: no pods yet

        // Created, scheduled, running and ready within a few tens of milliseconds: one burst.
        await TestManifests.ApplyAsync(_cluster, "qa-1", "web", "registry.example.com/web:1");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!(await _kubernetes.CoreV1.ListNamespacedPodAsync("qa-1", cancellationToken: deadline.Token)).Items
                   .Any(p => p.Status?.ContainerStatuses?.Any(c => c.Ready) == true))
        {
            await Task.Delay(20, deadline.Token); // bounded poll of the cluster, not a fixed wait
        }

        // Nothing changes in the cluster any more. Once the throttle's interval has passed, the page shows the pod ready.
        while (cut.Find("#pods").TextContent != "Running/ready")
        {
            _clock.Advance(TimeSpan.FromMilliseconds(200));
            await Task.Delay(20, deadline.Token); // bounded poll of the page, not a fixed wait
        }
    }
}

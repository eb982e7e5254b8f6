using DeployPortal.KubeEmulator;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Logs;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// A <see cref="PodLogHub"/> with the portal's own client and gateway against an emulator the test owns, and one
/// running pod of a one-replica app whose container writes <c>linesPerSecond</c>.
/// </summary>
internal sealed class LogHubHarness : IAsyncDisposable
{
    public const string Namespace = "logs-test";
    public const string App = "chatty";

    private LogHubHarness(EmulatorServer emulator, Kubernetes client, ClusterGateway gateway, PodLogHub hub)
    {
        Emulator = emulator;
        Client = client;
        Gateway = gateway;
        Hub = hub;
    }

    public EmulatorServer Emulator { get; }
    public Kubernetes Client { get; }
    public ClusterGateway Gateway { get; }
    public PodLogHub Hub { get; }
    public PodLogKey Key { get; private set; } = default!;

    public static async Task<LogHubHarness> CreateAsync(double linesPerSecond, LogOptions? logOptions = null, TimeSpan? timestampResolution = null)
    {
        var emulator = await EmulatorServer.StartAsync(new EmulatorOptions
        {
            PodPendingDelay = TimeSpan.FromMilliseconds(30),
            ContainerCreatingDelay = TimeSpan.FromMilliseconds(30),
            ReadyDelay = TimeSpan.FromMilliseconds(50),
            ReconcileInterval = TimeSpan.FromMilliseconds(20),
            LogLinesPerSecond = linesPerSecond,
            LogTimestampResolution = timestampResolution,
        });
        var client = new Kubernetes(new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString() }, new PodLogQueryHandler());
        var gateway = new ClusterGateway(client, Options.Create(new ClusterOptions { RetryDelay = TimeSpan.FromMilliseconds(50), RequestTimeout = TimeSpan.FromSeconds(5) }),
            NullLogger<ClusterGateway>.Instance);
        var hub = new PodLogHub(gateway, Options.Create(logOptions ?? new LogOptions { IdleGrace = TimeSpan.FromSeconds(1), ReconnectDelay = TimeSpan.FromMilliseconds(50) }),
            NullLogger<PodLogHub>.Instance);
        var harness = new LogHubHarness(emulator, client, gateway, hub);
        await harness.StartPodAsync();
        return harness;
    }

    private async Task StartPodAsync()
    {
        await Gateway.EnsureNamespaceAsync(Namespace, default);
        await TestManifests.ApplyAsync(Gateway, Namespace, App, "registry.example.com/shop/chatty:1");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var pods in new PodWatcher(Gateway, Options.Create(new ClusterOptions())).WatchPodsAsync(Namespace, App, deadline.Token))
        {
            if (pods.FirstOrDefault(p => p.Phase == "Running") is { } pod)
            {
                Key = new PodLogKey(Namespace, pod.Name, App);
                break;
            }
        }

        await deadline.CancelAsync(); // leaving the loop does not stop the gateway's watch; its token does
    }

    public async ValueTask DisposeAsync()
    {
        await Hub.DisposeAsync();
        Client.Dispose();
        await Emulator.DisposeAsync();
    }
}

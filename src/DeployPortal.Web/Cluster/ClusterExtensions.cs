using System.Net;
using System.Net.Sockets;
using DeployPortal.KubeEmulator;
using k8s;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Cluster;

public static class ClusterExtensions
{
    /// <summary>
    /// One <see cref="IKubernetes"/> for the process (the portal acts with its own service account, never
    /// the user's token) and the gateway every feature goes through. In Emulator mode the emulator is
    /// started in-process on a loopback port chosen here, so the client can be built before it listens.
    /// </summary>
    public static WebApplicationBuilder AddCluster(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<ClusterOptions, ClusterOptionsValidator>().BindConfiguration(ClusterOptions.Section);

        builder.Services.AddSingleton<IKubernetes>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ClusterOptions>>().Value;
            var config = options.Mode switch
            {
                ClusterMode.Emulator => new KubernetesClientConfiguration { Host = sp.GetRequiredService<EmulatorHost>().BaseAddress.ToString() },
                ClusterMode.Kubeconfig => KubernetesClientConfiguration.BuildConfigFromConfigFile(options.KubeconfigPath, options.Context, masterUrl: options.Server),
                _ => KubernetesClientConfiguration.InClusterConfig(),
            };
            return new Kubernetes(config, new PodLogQueryHandler());
        });
        builder.Services.AddSingleton<EmulatorHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EmulatorHost>());
        builder.Services.AddSingleton<ClusterGateway>();
        builder.Services.AddSingleton<ManifestBuilder>();
        builder.Services.AddSingleton<PodWatcher>();
        builder.Services.AddSingleton<RolloutWatcher>();
        return builder;
    }
}

/// <summary>Runs the Kubernetes API emulator in-process in Emulator mode; does nothing otherwise.</summary>
internal sealed class EmulatorHost(IOptions<ClusterOptions> options, ILogger<EmulatorHost> logger) : IHostedService, IAsyncDisposable
{
    private readonly Lazy<int> _port = new(() => options.Value.Emulator.Port is > 0 and var p ? p : FreeLoopbackPort());
    private EmulatorServer? _server;

    public bool IsEnabled => options.Value.Mode == ClusterMode.Emulator;

    public Uri BaseAddress => new($"http://127.0.0.1:{_port.Value}/");

    /// <summary>The running emulator's own settings (a copy of the configured ones), which tests and benchmarks may change live.</summary>
    public EmulatorOptions? RunningOptions => _server?.Options;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!IsEnabled)
        {
            return;
        }

        _server = await EmulatorServer.StartAsync(options.Value.Emulator.OnPort(_port.Value), cancellationToken);
        logger.LogWarning("Using the emulated Kubernetes cluster at {Address}: nothing is really deployed", _server.BaseAddress);
    }

    /// <summary>
    /// Nothing: the emulator stops when the host is disposed, after the pages, pod watches, log follows and jobs that
    /// use it have stopped. Stopping it with the other hosted services left them retrying against a cluster that was
    /// gone (and logging each failure) until the host's shutdown timeout.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _server, null) is { } server)
        {
            await server.DisposeAsync();
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

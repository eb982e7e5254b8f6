using System.Net;
using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Api;
using DeployPortal.KubeEmulator.Controllers;
using DeployPortal.KubeEmulator.Controllers.Argo;
using DeployPortal.KubeEmulator.Faults;
using DeployPortal.KubeEmulator.Logs;
using DeployPortal.KubeEmulator.Store;
using DeployPortal.KubeEmulator.Traffic;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace DeployPortal.KubeEmulator;

/// <summary>
/// An in-process Kubernetes API emulator listening on 127.0.0.1. Point KubernetesClient or kubectl at
/// <see cref="BaseAddress"/> (plain HTTP, no auth). Dispose to stop it.
/// </summary>
/// <example>
/// <code>
/// await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
/// var client = new Kubernetes(new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString() });
/// </code>
/// </example>
public sealed class EmulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Cluster _cluster;

    private EmulatorServer(WebApplication app, Cluster cluster, Uri baseAddress)
    {
        _app = app;
        _cluster = cluster;
        BaseAddress = baseAddress;
    }

    /// <summary>The emulator's address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The options the emulator runs with (timings are read live, so most can be changed while it runs).</summary>
    public EmulatorOptions Options => _cluster.Options;

    /// <summary>Fault injection, mutable at run time so a test can switch faults on and off.</summary>
    public FaultOptions Faults => _cluster.Options.Faults;

    /// <summary>Starts an emulator bound to 127.0.0.1 on <see cref="EmulatorOptions.Port"/> (0 = a free port).</summary>
    public static async Task<EmulatorServer> StartAsync(EmulatorOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(EmulatorServer).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, options.Port));
        var (app, cluster) = Build(builder, options);
        await app.StartAsync(ct).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new EmulatorServer(app, cluster, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/"));
    }

    /// <summary>
    /// Simulates kubelet log rotation for every container of a pod: buffered lines are dropped and current
    /// <c>follow</c> streams are closed. Returns the number of containers rotated.
    /// </summary>
    public int RotateLogs(string @namespace, string podName)
    {
        var pod = _cluster.Store.Get(ResourceKind.Pod, @namespace, podName);
        return pod is null ? 0 : _cluster.Logs.Rotate(pod.Uid);
    }

    /// <summary>
    /// Simulates <paramref name="requests"/> requests reaching the app <paramref name="app"/> (its Service) in
    /// <paramref name="namespace"/> through the ingress controller: they show on <c>/metrics</c> as
    /// <c>nginx_ingress_controller_requests</c>. Null when counted; otherwise why not (no such Service).
    /// </summary>
    public string? SimulateRequests(string @namespace, string app, int requests, int status = 200) => _cluster.Traffic.Record(@namespace, app, requests, status);

    /// <summary>Number of open watch streams (for tests that must wait until a client is watching).</summary>
    internal int ActiveWatches => _cluster.Store.SubscriptionCount;

    /// <summary>Forgets the watch history (like an etcd compaction): resuming from an older resourceVersion then gets 410 Gone.</summary>
    public void CompactWatchHistory() => _cluster.Store.Compact();

    /// <summary>Stops the server and the controllers.</summary>
    public async ValueTask DisposeAsync()
    {
        // Watches and log follows are open-ended requests: give them a moment to end, then close them, rather than
        // waiting out the host's 30 s shutdown timeout.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(stop.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _cluster.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The emulated cluster: store, controllers, logs.</summary>
    internal sealed class Cluster(EmulatorOptions options, ObjectStore store, PodLogWriter logs, ClusterController controller, ApplicationController applications, KubeApi api) : IAsyncDisposable
    {
        public IngressTraffic Traffic { get; } = new(store);
        public EmulatorOptions Options { get; } = options;
        public ObjectStore Store { get; } = store;
        public PodLogWriter Logs { get; } = logs;
        public KubeApi Api { get; } = api;

        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return;
            }

            await applications.DisposeAsync().ConfigureAwait(false);
            await controller.DisposeAsync().ConfigureAwait(false);
            await Logs.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Wires the emulator into a web application (shared by <see cref="StartAsync"/> and the runnable host).</summary>
    internal static (WebApplication App, Cluster Cluster) Build(WebApplicationBuilder builder, EmulatorOptions options)
    {
        var app = builder.Build();
        var time = TimeProvider.System;
        var store = new ObjectStore(options.WatchHistorySize);
        var resources = new Resources(store, options, time);
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            resources.Create(ResourceKind.Namespace, "", new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } }, "kube-apiserver");
        }
        // The API server's own Service, which every cluster has in "default" (kubectl get all -A lists it).
        resources.Create(ResourceKind.Service, "default", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "kubernetes", ["labels"] = new JsonObject { ["component"] = "apiserver", ["provider"] = "kubernetes" } },
            ["spec"] = new JsonObject
            {
                ["clusterIP"] = "10.96.0.1",
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = 443, ["protocol"] = "TCP", ["targetPort"] = 6443 }),
            },
        }, "kube-apiserver");
        store.Create(ResourceKind.Node, new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject
            {
                ["name"] = ClusterController.NodeName,
                ["uid"] = Guid.NewGuid().ToString(),
                ["creationTimestamp"] = Json.Time(time.GetUtcNow()),
                ["labels"] = new JsonObject { ["kubernetes.io/hostname"] = ClusterController.NodeName, ["kubernetes.io/os"] = "linux", ["node-role.kubernetes.io/control-plane"] = "" },
            },
            ["status"] = new JsonObject
            {
                ["addresses"] = new JsonArray(new JsonObject { ["type"] = "InternalIP", ["address"] = ClusterController.NodeIp }),
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True", ["reason"] = "KubeletReady", ["message"] = "kubelet is posting ready status" }),
            },
        });
        var logs = new PodLogWriter(options, time);
        var events = new EventRecorder(store, options, time);
        var controller = new ClusterController(store, options, time, logs, events, app.Logger);
        var api = new KubeApi(resources, new WatchStream(store, options, time), time, new LogStreamer(store, logs, options));
        var applications = new ApplicationController(store, resources, options, time, app.Logger);
        var cluster = new Cluster(options, store, logs, controller, applications, api);

        app.UseMiddleware<FaultInjector>(options);
        app.MapGet("/version", () => Results.Text(Discovery.Version(options).ToJsonString(), "application/json"));
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", () => Results.Text("ok"));
        app.MapGet("/livez", () => Results.Text("ok"));
        // An OpenAPI v2 document with no definitions, in the protobuf form clients ask for (an empty message is zero
        // bytes): kubectl's client-side validation then skips kinds it has no schema for, as it does for a kind a
        // real server does not serve, and the client's discovery answers "no matches for kind".
        app.MapGet("/openapi/v2", () => Results.Bytes([], "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"));
        app.MapGet("/openapi/v3", () => Results.Text(OpenApi.Root().ToJsonString(), "application/json"));
        app.MapGet("/openapi/v3/{**key}", (string key) => OpenApi.GroupVersion(key) is { } doc
            ? Results.Text(doc.ToJsonString(), "application/json")
            : Results.Text(ApiError.PathNotFound().ToStatus().ToJsonString(), "application/json", statusCode: 404));
        MapTraffic(app, cluster.Traffic);
        app.Map("/api", api.HandleAsync);
        app.Map("/api/{**rest}", api.HandleAsync);
        app.Map("/apis", api.HandleAsync);
        app.Map("/apis/{**rest}", api.HandleAsync);
        app.Lifetime.ApplicationStopping.Register(() => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult());
        return (app, cluster);
    }

    /// <summary>
    /// <c>GET /metrics</c>: the apps' request counters in Prometheus text format, for a real Prometheus to scrape.
    /// <c>POST /emulator/traffic/{namespace}/{app}?requests=N&amp;status=200</c>: simulates N requests to an app (tests, the demo).
    /// </summary>
    private static void MapTraffic(WebApplication app, IngressTraffic traffic)
    {
        app.MapGet("/metrics", () => Results.Text(traffic.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapPost("/emulator/traffic/{ns}/{name}", (string ns, string name, int? requests, int? status) =>
        {
            try
            {
                return traffic.Record(ns, name, requests ?? 1, status ?? 200) is { } missing
                    ? Results.Text(missing, statusCode: StatusCodes.Status404NotFound)
                    : Results.Text($"counted {requests ?? 1} requests to {name} in {ns}\n");
            }
            catch (ArgumentOutOfRangeException e)
            {
                return Results.Text(e.Message, statusCode: StatusCodes.Status400BadRequest);
            }
        });
    }
}

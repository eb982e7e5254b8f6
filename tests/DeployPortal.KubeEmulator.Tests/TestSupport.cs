using System.Diagnostics;
using k8s;
using k8s.Models;

namespace DeployPortal.KubeEmulator.Tests;

/// <summary>Fast timings so the suite runs in seconds; each test class gets its own emulator.</summary>
internal static class Fast
{
    public static EmulatorOptions Options(Action<EmulatorOptions>? configure = null)
    {
        var o = new EmulatorOptions
        {
            PodPendingDelay = TimeSpan.FromMilliseconds(60),
            ContainerCreatingDelay = TimeSpan.FromMilliseconds(60),
            ReadyDelay = TimeSpan.FromMilliseconds(100),
            CrashAfter = TimeSpan.FromMilliseconds(150),
            BackOffBase = TimeSpan.FromMilliseconds(100),
            MaxBackOff = TimeSpan.FromMilliseconds(300),
            ReconcileInterval = TimeSpan.FromMilliseconds(20),
            LogLinesPerSecond = 20,
            LogTick = TimeSpan.FromMilliseconds(10),
        };
        configure?.Invoke(o);
        return o;
    }
}

/// <summary>An emulator plus a KubernetesClient pointed at it.</summary>
public abstract class EmulatorTestBase : IAsyncLifetime
{
    private readonly Action<EmulatorOptions>? _configure;
    protected EmulatorTestBase(Action<EmulatorOptions>? configure = null) => _configure = configure;

    protected EmulatorServer Server { get; private set; } = null!;
    protected Kubernetes Client { get; private set; } = null!;
    protected HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await EmulatorServer.StartAsync(Fast.Options(_configure));
        Client = NewClient();
        Http = new HttpClient { BaseAddress = Server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    protected Kubernetes NewClient(TimeSpan? timeout = null) =>
        new(new KubernetesClientConfiguration { Host = Server.BaseAddress.ToString(), HttpClientTimeout = timeout ?? TimeSpan.FromSeconds(30) });

    public async Task DisposeAsync()
    {
        Client.Dispose();
        Http.Dispose();
        await Server.DisposeAsync();
    }

    protected static V1Status StatusOf(k8s.Autorest.HttpOperationException e) =>
        System.Text.Json.JsonSerializer.Deserialize<V1Status>(e.Response.Content)!;

    protected static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";

    protected static V1Deployment Deployment(string name, string image, int replicas = 1, int? progressDeadlineSeconds = null, string container = "app") => new()
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["team"] = "portal" } },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            ProgressDeadlineSeconds = progressDeadlineSeconds,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = container, Image = image }] },
            },
        },
    };

    protected Task<V1Deployment> ApplyAsync(V1Deployment d, string manager = "portal-tests", bool force = false) =>
        Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(d, V1Patch.PatchType.ApplyPatch), d.Metadata.Name, "default", fieldManager: manager, force: force);

    protected async Task<IList<V1Pod>> PodsOfAsync(string app) =>
        (await Client.CoreV1.ListNamespacedPodAsync("default", labelSelector: $"app={app}")).Items;

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes (then fails with <paramref name="what"/>).</summary>
    protected static Task Eventually(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) => Wait.Until(condition, what, timeout);
}

internal static class Wait
{
    public static async Task Until(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(15);
        Exception? last = null;
        while (deadline.Elapsed < limit)
        {
            try
            {
                if (await condition())
                {
                    return;
                }

                last = null;
            }
            catch (Exception e) { last = e; }
            await Task.Delay(25); // poll interval of the deadline helper, not a fixed wait for state
        }
        throw new TimeoutException($"timed out after {limit.TotalSeconds:0.#}s waiting for: {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }
}

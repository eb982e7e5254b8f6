using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Logs;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Controllers;

/// <summary>
/// The emulated kubelet for one pod: a time-driven state machine per container (Pending → ContainerCreating →
/// Running → Ready, or one of the failure modes) that renders <c>status</c> and records events.
/// </summary>
internal sealed class PodRuntime
{
    private readonly EmulatorOptions _options;
    private readonly RegistryPuller? _puller;

    // puller: the configured registry, when images naming it are pulled for real; null: by name only.
    public PodRuntime(StoredObject pod, EmulatorOptions options, DateTimeOffset now, int ipSuffix, RegistryPuller? puller = null)
    {
        _options = options;
        _puller = puller;
        Uid = pod.Uid;
        Created = now;
        PodIp = $"10.244.{ipSuffix / 250 % 250}.{ipSuffix % 250 + 2}";
        if (pod.Node["spec"]?["containers"] is JsonArray cs)
        {
            foreach (var c in cs.OfType<JsonObject>())
            {
                var image = Json.Str(c, "image") ?? "";
                Containers.Add(new ContainerRuntime(Json.Str(c, "name") ?? "app", image, ImageBehaviours.Classify(image))
                {
                    FromRegistry = puller?.Handles(image) == true,
                });
            }
        }
    }

    public string Uid { get; }
    public DateTimeOffset Created { get; }
    public string PodIp { get; }
    public DateTimeOffset? ScheduledAt { get; private set; }
    public List<ContainerRuntime> Containers { get; } = new();

    internal sealed class ContainerRuntime(string name, string image, ImageBehaviour behaviour)
    {
        public string Name { get; } = name;
        public string Image { get; } = image;

        /// <summary>By the image's name; for an image of the configured registry, only once a pull found it (a pull error until then).</summary>
        public ImageBehaviour Behaviour { get; set; } = behaviour;

        /// <summary>How the image's name says it behaves once pulled.</summary>
        public ImageBehaviour Named { get; } = behaviour;

        /// <summary>The image names the configured registry: each pull asks it.</summary>
        public bool FromRegistry { get; init; }

        /// <summary>A pull in flight (the container shows ContainerCreating meanwhile, as while a kubelet pulls).</summary>
        public Task<PullAnswer>? Pull { get; set; }

        /// <summary>Why the last pull from the registry failed, in the runtime's words.</summary>
        public string? PullFailure { get; set; }

        /// <summary>The registry had the image: it is on the node now.</summary>
        public bool Pulled { get; set; }
        public string ContainerId { get; set; } = "";
        public int RestartCount { get; set; }
        public int PullFailures { get; set; }
        public DateTimeOffset? RunningSince { get; set; }
        public DateTimeOffset? WaitUntil { get; set; }
        public string? WaitingReason { get; set; }
        public string? WaitingMessage { get; set; }
        public JsonObject? LastTerminated { get; set; }
        public bool Ready { get; set; }
        public bool EverStarted { get; set; }
        public DateTimeOffset LastUnhealthyEvent { get; set; }
    }

    /// <summary>Advances the state machine to <paramref name="now"/>; returns the pod's new status.</summary>
    public JsonObject Step(StoredObject pod, DateTimeOffset now, EventRecorder events, PodLogWriter logs)
    {
        var name = pod.Name;
        if (ScheduledAt is null && now - Created >= _options.PodPendingDelay)
        {
            ScheduledAt = now;
            events.Record(pod, "Normal", "Scheduled", $"Successfully assigned {pod.Namespace}/{name} to {ClusterController.NodeName}", "default-scheduler");
        }
        if (ScheduledAt is { } scheduled)
        {
            var createdDone = now - scheduled >= _options.ContainerCreatingDelay;
            foreach (var c in Containers)
            {
                var fieldPath = $"spec.containers{{{c.Name}}}";
                if (!createdDone)
                { c.WaitingReason = "ContainerCreating"; c.WaitingMessage = null; continue; }
                if (c.WaitUntil is { } until && now < until)
                {
                    continue; // backing off
                }

                if (c.FromRegistry && !c.Pulled && !PullFromRegistry(c))
                {
                    continue; // pulling
                }

                switch (c.Behaviour)
                {
                    case ImageBehaviour.PullError:
                        if (c.WaitingReason is "ContainerCreating" or "ImagePullBackOff" or null)
                        {
                            if (c.PullFailures == 0 || c.WaitingReason == "ImagePullBackOff")
                            {
                                events.Record(pod, "Normal", "Pulling", $"Pulling image \"{c.Image}\"", fieldPath: fieldPath);
                                c.PullFailures++;
                                c.WaitingReason = "ErrImagePull";
                                c.WaitingMessage = c.PullFailure
                                    ?? $"rpc error: code = NotFound desc = failed to pull and unpack image \"{c.Image}\": failed to resolve reference \"{c.Image}\": {c.Image}: not found";
                                events.Record(pod, "Warning", "Failed", $"Failed to pull image \"{c.Image}\": {c.WaitingMessage}", fieldPath: fieldPath);
                                events.Record(pod, "Warning", "Failed", "Error: ErrImagePull", fieldPath: fieldPath);
                                c.WaitUntil = now + _options.PodPendingDelay; // ErrImagePull is shown briefly, then back-off
                            }
                        }
                        else if (c.WaitingReason == "ErrImagePull")
                        {
                            c.WaitingReason = "ImagePullBackOff";
                            c.WaitingMessage = $"Back-off pulling image \"{c.Image}\"";
                            events.Record(pod, "Normal", "BackOff", $"Back-off pulling image \"{c.Image}\"", fieldPath: fieldPath);
                            events.Record(pod, "Warning", "Failed", "Error: ImagePullBackOff", fieldPath: fieldPath);
                            c.WaitUntil = now + BackOff(c.PullFailures);
                        }
                        break;
                    default:
                        if (c.RunningSince is null)
                        {
                            if (!c.EverStarted)
                            {
                                events.Record(pod, "Normal", "Pulling", $"Pulling image \"{c.Image}\"", fieldPath: fieldPath);
                                events.Record(pod, "Normal", "Pulled", $"Successfully pulled image \"{c.Image}\" in 1.2s (1.2s including waiting). Image size: 48211543 bytes.", fieldPath: fieldPath);
                            }
                            else
                            {
                                events.Record(pod, "Normal", "Pulled", $"Container image \"{c.Image}\" already present on machine", fieldPath: fieldPath);
                            }

                            events.Record(pod, "Normal", "Created", $"Created container: {c.Name}", fieldPath: fieldPath);
                            events.Record(pod, "Normal", "Started", $"Started container {c.Name}", fieldPath: fieldPath);
                            c.RunningSince = now;
                            c.EverStarted = true;
                            c.WaitingReason = null;
                            c.WaitingMessage = null;
                            c.WaitUntil = null;
                            c.ContainerId = "containerd://" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
                            logs.Start(Uid, c.Name, c.Image, c.Behaviour == ImageBehaviour.NeverReady);
                        }
                        var running = now - c.RunningSince.Value;
                        if (c.Behaviour == ImageBehaviour.Healthy && !c.Ready && running >= _options.ReadyDelay)
                        {
                            c.Ready = true;
                        }

                        if (c.Behaviour == ImageBehaviour.NeverReady && running >= _options.ReadyDelay && now - c.LastUnhealthyEvent >= TimeSpan.FromSeconds(10))
                        {
                            c.LastUnhealthyEvent = now;
                            events.Record(pod, "Warning", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", fieldPath: fieldPath);
                        }
                        if (c.Behaviour == ImageBehaviour.Crash && running >= _options.CrashAfter)
                        {
                            logs.Stop(Uid, c.Name, crashed: true);
                            c.LastTerminated = new JsonObject
                            {
                                ["terminated"] = new JsonObject
                                {
                                    ["exitCode"] = 1,
                                    ["reason"] = "Error",
                                    ["startedAt"] = Json.Time(c.RunningSince.Value),
                                    ["finishedAt"] = Json.Time(now),
                                    ["containerID"] = c.ContainerId,
                                },
                            };
                            c.RunningSince = null;
                            c.Ready = false;
                            c.RestartCount++;
                            c.WaitingReason = "CrashLoopBackOff";
                            c.WaitingMessage = $"back-off {(int)BackOff(c.RestartCount).TotalSeconds}s restarting failed container={c.Name} pod={name}_{pod.Namespace}({Uid})";
                            c.WaitUntil = now + BackOff(c.RestartCount);
                            events.Record(pod, "Warning", "BackOff", $"Back-off restarting failed container {c.Name} in pod {name}_{pod.Namespace}({Uid})", fieldPath: fieldPath);
                        }
                        break;
                }
            }
        }
        return PodStatusRenderer.Render(this, pod, now, _options);
    }

    /// <summary>
    /// The pull of an image of the configured registry: started when the kubelet would try (first, and after each
    /// back-off), answered asynchronously. False while it is in flight; then the container either runs as its name says
    /// (found) or fails with the runtime's message (ErrImagePull, then ImagePullBackOff, and tries again).
    /// </summary>
    private bool PullFromRegistry(ContainerRuntime c)
    {
        if (c.Pull is null)
        {
            if (c.WaitingReason == "ErrImagePull")
            {
                return true; // shown briefly; the back-off comes next
            }

            c.Pull = _puller!.PullAsync(c.Image);
            c.WaitingReason ??= "ContainerCreating";
            return false;
        }

        if (!c.Pull.IsCompleted)
        {
            return false;
        }

        var answer = c.Pull.Result;
        c.Pull = null;
        c.Pulled = answer.Pulled;
        c.Behaviour = answer.Pulled ? c.Named : ImageBehaviour.PullError;
        c.PullFailure = answer.Failure;
        return true;
    }

    private TimeSpan BackOff(int failures)
    {
        var t = _options.BackOffBase * Math.Pow(2, Math.Max(0, failures - 1));
        return t > _options.MaxBackOff ? _options.MaxBackOff : t;
    }
}

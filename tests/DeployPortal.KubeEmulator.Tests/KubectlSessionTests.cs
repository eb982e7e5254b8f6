using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Autorest;

namespace DeployPortal.KubeEmulator.Tests;

/// <summary>
/// A scripted session of everyday kubectl commands, asserting what a real API server answers: dry runs that change
/// nothing, field validation at each level, the client-side to server-side apply upgrade, imperative creates (which
/// kubectl sends as Protobuf), scale and rollouts, logs, edits, waits, deletes and auth.
/// </summary>
public sealed class KubectlSessionTests : KubectlTestBase
{
    private async Task<string> WriteAsync(string file, string content)
    {
        var path = Path.Combine(Home, file);
        await File.WriteAllTextAsync(path, content);
        return path;
    }

    private Task<string> DeploymentFileAsync(string name, string image = "nginx:1.27", int replicas = 1, string apiVersion = "apps/v1", string extraSpec = "", string extraContainer = "") =>
        WriteAsync($"{name}-{Guid.NewGuid():N}.yaml", $$"""
            apiVersion: {{apiVersion}}
            kind: Deployment
            metadata:
              name: {{name}}
              namespace: default
              labels: {tier: web, app: {{name}}}
            spec:
              replicas: {{replicas}}{{extraSpec}}
              selector:
                matchLabels: {app: {{name}}}
              template:
                metadata:
                  labels: {app: {{name}}}
                spec:
                  containers:
                  - name: web
                    image: {{image}}{{extraContainer}}
                    ports:
                    - containerPort: 80
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: {{name}}
              namespace: default
            spec:
              selector: {app: {{name}}}
              ports:
              - port: 80
            """);

    /// <summary>What a write would change on a Deployment: identity, generation, labels, annotations and spec.</summary>
    private async Task<string> StateOfAsync(string name)
    {
        var d = await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default");
        return KubernetesJson.Serialize(new { d.Metadata.Uid, d.Metadata.Generation, d.Metadata.Labels, d.Metadata.Annotations, d.Spec });
    }

    /// <summary>The stored spec as the server returns it (the last-applied annotation keeps the manifest as written).</summary>
    private async Task<string> SpecJsonAsync(string name) =>
        JsonNode.Parse(await Http.GetStringAsync($"apis/apps/v1/namespaces/default/deployments/{name}"))!["spec"]!.ToJsonString();

    private async Task<int> ReplicaSetCountAsync(string name) =>
        (await Client.AppsV1.ListNamespacedReplicaSetAsync("default", labelSelector: $"app={name}")).Items.Count;

    private async Task<(int Exit, string Out, string Err)> FailsAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.Exit != 0, $"kubectl {string.Join(' ', args)} succeeded: {result.Out}");
        return result;
    }

    private async Task WaitAvailableAsync(string name, int replicas = 1) =>
        await Eventually(async () => (await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default")).Status?.AvailableReplicas == replicas, $"{name} available");

    [Fact]
    public async Task Kubectl_DryRunServer_OnEveryVerb_AnswersTheResultAndChangesNothing()
    {
        var name = Unique("dry");
        var file = await DeploymentFileAsync(name);
        await OkAsync("apply", "-f", file);
        await WaitAvailableAsync(name);
        var before = await StateOfAsync(name);
        var replicaSets = await ReplicaSetCountAsync(name);
        var changed = await DeploymentFileAsync(name, image: "nginx:1.28", replicas: 3);

        // diff runs a server-side dry run; it exits 1 when there are differences, and shows them.
        var diff = await RunAsync("diff", "-f", changed);
        Assert.True(diff.Exit == 1, $"diff exited {diff.Exit}: {diff.Err}");
        Assert.Contains("-      - image: nginx:1.27", diff.Out);
        Assert.Contains("+      - image: nginx:1.28", diff.Out);
        var ssaDiff = await RunAsync("diff", "--server-side", "-f", changed);
        Assert.True(ssaDiff.Exit == 1, $"diff --server-side exited {ssaDiff.Exit}: {ssaDiff.Err}");
        Assert.Contains("+      - image: nginx:1.28", ssaDiff.Out);

        Assert.Contains($"deployment.apps/{name} configured (server dry run)", await OkAsync("apply", "-f", changed, "--dry-run=server"));
        Assert.Contains($"deployment.apps/{name} serverside-applied (server dry run)", await OkAsync("apply", "--server-side", "--force-conflicts", "-f", changed, "--dry-run=server"));
        Assert.Contains($"deployment.apps/{name} replaced (server dry run)", await OkAsync("replace", "-f", changed, "--dry-run=server"));
        // The answer is the object as it would be, though nothing is stored.
        Assert.Equal("4", await OkAsync("patch", "deployment", name, "-p", """{"spec":{"replicas":4}}""", "--dry-run=server", "-o", "jsonpath={.spec.replicas}"));
        Assert.Equal("5", await OkAsync("patch", "deployment", name, "--type=merge", "-p", """{"spec":{"replicas":5}}""", "--dry-run=server", "-o", "jsonpath={.spec.replicas}"));
        Assert.Equal("6", await OkAsync("patch", "deployment", name, "--type=json", "-p", """[{"op":"replace","path":"/spec/replicas","value":6}]""", "--dry-run=server", "-o", "jsonpath={.spec.replicas}"));
        Assert.Contains("labeled (server dry run)", await OkAsync("label", "deployment", name, "stage=qa", "--dry-run=server"));
        Assert.Contains("annotated (server dry run)", await OkAsync("annotate", "deployment", name, "owner=qa", "--dry-run=server"));
        Assert.Contains("image updated (server dry run)", await OkAsync("set", "image", $"deployment/{name}", "web=nginx:1.29", "--dry-run=server"));
        Assert.Contains("scaled (server dry run)", await OkAsync("scale", "deployment", name, "--replicas=7", "--dry-run=server"));
        Assert.Contains($"deployment.apps \"{name}\" deleted (server dry run)", await OkAsync("delete", "deployment", name, "--dry-run=server"));
        Assert.Contains($"deployment.apps \"{name}\" deleted (server dry run)", await OkAsync("delete", "deployments", "-l", $"app={name}", "--dry-run=server"));

        Assert.Equal(before, await StateOfAsync(name));
        Assert.Equal(replicaSets, await ReplicaSetCountAsync(name));

        // A dry-run create stores nothing either.
        var other = Unique("dry");
        Assert.Contains($"deployment.apps/{other} created (server dry run)", await OkAsync("create", "-f", await DeploymentFileAsync(other), "--dry-run=server"));
        Assert.Contains($"deployment.apps/{other} created (server dry run)", await OkAsync("create", "deployment", other, "--image=nginx", "--dry-run=server"));
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.AppsV1.ReadNamespacedDeploymentAsync(other, "default"));
        Assert.Equal(HttpStatusCode.NotFound, ex.Response.StatusCode);
    }

    [Fact]
    public async Task Kubectl_InvalidManifests_AreRefusedWarnedOrDroppedByFieldValidationLevel()
    {
        const string typo = "\n  replcas: 2";
        const string containerTypo = "\n        imagee: nginx";
        var strict = Unique("strict");

        // Strict, kubectl's default: the create is refused with the decoder's message and nothing is stored.
        var refused = await FailsAsync("apply", "-f", await DeploymentFileAsync(strict, extraSpec: typo, extraContainer: containerTypo));
        Assert.Contains("Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replcas\", unknown field \"spec.template.spec.containers[0].imagee\"", refused.Err);
        await Assert.ThrowsAsync<HttpOperationException>(() => Client.AppsV1.ReadNamespacedDeploymentAsync(strict, "default"));
        Assert.Contains("strict decoding error: unknown field \"spec.replcas\"", (await FailsAsync("create", "-f", await DeploymentFileAsync(strict, extraSpec: typo))).Err);

        // Strict on an existing object: the client-side apply patch is refused and the object keeps its spec.
        await OkAsync("apply", "-f", await DeploymentFileAsync(strict));
        var before = await StateOfAsync(strict);
        var patchRefused = await FailsAsync("apply", "-f", await DeploymentFileAsync(strict, extraSpec: typo));
        Assert.Contains("strict decoding error: unknown field \"spec.replcas\"", patchRefused.Err);
        Assert.Equal(before, await StateOfAsync(strict));

        // Warn: stored without the unknown fields, with a warning for each.
        var warn = Unique("warn");
        var warned = await RunAsync("apply", "--validate=warn", "-f", await DeploymentFileAsync(warn, extraSpec: typo, extraContainer: containerTypo));
        Assert.True(warned.Exit == 0, warned.Err);
        Assert.Contains("Warning: unknown field \"spec.replcas\"", warned.Err);
        Assert.Contains("Warning: unknown field \"spec.template.spec.containers[0].imagee\"", warned.Err);
        var stored = await SpecJsonAsync(warn);
        Assert.DoesNotContain("replcas", stored);
        Assert.DoesNotContain("imagee", stored);

        // Ignore: stored without them, silently.
        var ignore = Unique("ignore");
        var ignored = await RunAsync("apply", "--validate=false", "-f", await DeploymentFileAsync(ignore, extraSpec: typo));
        Assert.True(ignored.Exit == 0, ignored.Err);
        Assert.DoesNotContain("Warning", ignored.Err);
        Assert.DoesNotContain("replcas", await SpecJsonAsync(ignore));

        // Server-side apply builds a typed object, which fails on an undeclared field at every level.
        var ssa = Unique("ssa");
        foreach (var level in new[] { "strict", "warn", "false" })
        {
            var failed = await FailsAsync("apply", "--server-side", $"--validate={level}", "-f", await DeploymentFileAsync(ssa, extraSpec: typo));
            Assert.Contains($"failed to create typed patch object (default/{ssa}; apps/v1, Kind=Deployment): .spec.replcas: field not declared in schema", failed.Err);
        }
        await Assert.ThrowsAsync<HttpOperationException>(() => Client.AppsV1.ReadNamespacedDeploymentAsync(ssa, "default"));

        // An apiVersion the server does not serve is unknown to discovery.
        var old = await FailsAsync("apply", "-f", await DeploymentFileAsync(Unique("old"), apiVersion: "apps/v1beta1"));
        Assert.Contains("no matches for kind \"Deployment\" in version \"apps/v1beta1\"", old.Err);
    }

    [Fact]
    public async Task Kubectl_ApplyClientSideThenServerSide_UpgradesWithoutConflicts()
    {
        var name = Unique("upgrade");
        var file = await DeploymentFileAsync(name);
        var created = await OkAsync("apply", "-f", file);
        Assert.Contains($"deployment.apps/{name} created", created);
        Assert.Contains($"service/{name} created", created);
        Assert.Contains($"deployment.apps/{name} unchanged", await OkAsync("apply", "-f", file));
        var svc = await Client.CoreV1.ReadNamespacedServiceAsync(name, "default");
        Assert.Contains(svc.Metadata.ManagedFields, m => m.Manager == "kubectl-client-side-apply");
        Assert.Equal("TCP", svc.Spec.Ports.Single().Protocol); // defaulted, so the live list differs from the applied one

        var upgraded = await OkAsync("apply", "--server-side", "-f", file);
        Assert.Contains($"deployment.apps/{name} serverside-applied", upgraded);
        Assert.Contains($"service/{name} serverside-applied", upgraded);
        svc = await Client.CoreV1.ReadNamespacedServiceAsync(name, "default");
        Assert.DoesNotContain(svc.Metadata.ManagedFields, m => m.Manager == "kubectl-client-side-apply");
        Assert.Contains(svc.Metadata.ManagedFields, m => m.Manager == "kubectl" && m.Operation == "Apply");

        // From now on kubectl's apply manager owns the fields: a changed manifest applies without --force-conflicts.
        await OkAsync("apply", "--server-side", "-f", await DeploymentFileAsync(name, image: "nginx:1.28", replicas: 2));
        var d = await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default");
        Assert.Equal(2, d.Spec.Replicas);
        Assert.Equal("nginx:1.28", d.Spec.Template.Spec.Containers.Single().Image);

        // A field another manager set is still a conflict, as on a real server.
        await Client.AppsV1.PatchNamespacedDeploymentAsync(new k8s.Models.V1Patch("""{"spec":{"replicas":5}}""", k8s.Models.V1Patch.PatchType.MergePatch), name, "default", fieldManager: "hpa");
        var conflict = await FailsAsync("apply", "--server-side", "-f", await DeploymentFileAsync(name, image: "nginx:1.28", replicas: 2));
        Assert.Contains("conflict with \"hpa\"", conflict.Err);
        Assert.Contains(".spec.replicas", conflict.Err);
    }

    [Fact]
    public async Task Kubectl_CreateCommands_SendProtobufAndCreateWhatTheySay()
    {
        var ns = Unique("team");
        Assert.Contains($"namespace/{ns} created", await OkAsync("create", "namespace", ns));
        Assert.Contains("configmap/settings created", await OkAsync("create", "configmap", "settings", "-n", ns, "--from-literal=mode=fast", "--from-literal=level=3"));
        Assert.Contains("secret/db created", await OkAsync("create", "secret", "generic", "db", "-n", ns, "--from-literal=password=hunter2"));
        Assert.Contains("deployment.apps/web created", await OkAsync("create", "deployment", "web", "-n", ns, "--image=nginx:1.27", "--replicas=2", "--port=80"));
        Assert.Contains("service/web created", await OkAsync("create", "service", "clusterip", "web", "-n", ns, "--tcp=80:8080"));
        Assert.Contains("ingress.networking.k8s.io/web created", await OkAsync("create", "ingress", "web", "-n", ns, "--rule=web.example.test/*=web:80"));
        Assert.Contains("pod/debug created", await OkAsync("run", "debug", "-n", ns, "--image=busybox:1.36", "--labels=purpose=debug"));

        var cm = await Client.CoreV1.ReadNamespacedConfigMapAsync("settings", ns);
        Assert.Equal(new Dictionary<string, string> { ["mode"] = "fast", ["level"] = "3" }, cm.Data);
        var secret = await Client.CoreV1.ReadNamespacedSecretAsync("db", ns);
        Assert.Equal("Opaque", secret.Type);
        Assert.Equal("hunter2", Encoding.UTF8.GetString(secret.Data["password"]));
        var d = await Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns);
        Assert.Equal(2, d.Spec.Replicas);
        Assert.Equal("web", d.Spec.Selector.MatchLabels["app"]);
        var container = d.Spec.Template.Spec.Containers.Single();
        Assert.Equal(("nginx", "nginx:1.27", 80), (container.Name, container.Image, container.Ports.Single().ContainerPort));
        var svc = await Client.CoreV1.ReadNamespacedServiceAsync("web", ns);
        Assert.Equal((80, "8080"), (svc.Spec.Ports.Single().Port, svc.Spec.Ports.Single().TargetPort.Value));
        var rule = (await Client.NetworkingV1.ReadNamespacedIngressAsync("web", ns)).Spec.Rules.Single();
        Assert.Equal("web.example.test", rule.Host);
        Assert.Equal(("/", "Prefix", "web", 80), (rule.Http.Paths.Single().Path, rule.Http.Paths.Single().PathType, rule.Http.Paths.Single().Backend.Service.Name, rule.Http.Paths.Single().Backend.Service.Port.Number));
        var pod = await Client.CoreV1.ReadNamespacedPodAsync("debug", ns);
        Assert.Equal("debug", pod.Metadata.Labels["purpose"]);
        Assert.Equal("busybox:1.36", pod.Spec.Containers.Single().Image);

        Assert.Contains("deployment \"web\" successfully rolled out", await OkAsync("rollout", "status", "deployment/web", "-n", ns, "--timeout=60s"));
        var taken = await FailsAsync("create", "configmap", "settings", "-n", ns);
        Assert.Contains("configmaps \"settings\" already exists", taken.Err);
    }

    [Fact]
    public async Task Kubectl_ScaleAndRollouts_UndoReusesTheEarlierReplicaSet()
    {
        var name = Unique("roll");
        await OkAsync("apply", "--server-side", "-f", await DeploymentFileAsync(name));
        Assert.Contains("successfully rolled out", await OkAsync("rollout", "status", $"deployment/{name}", "--timeout=60s"));
        var first = (await Client.AppsV1.ListNamespacedReplicaSetAsync("default", labelSelector: $"app={name}")).Items.Single().Metadata.Name;

        Assert.Contains($"deployment.apps/{name} scaled", await OkAsync("scale", "deployment", name, "--replicas=3"));
        Assert.Contains("successfully rolled out", await OkAsync("rollout", "status", $"deployment/{name}", "--timeout=60s"));
        Assert.Equal(3, (await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default")).Status.ReadyReplicas);
        Assert.Equal(1, await ReplicaSetCountAsync(name)); // scaling is not a new revision

        await OkAsync("set", "image", $"deployment/{name}", "web=nginx:1.28");
        Assert.Contains("successfully rolled out", await OkAsync("rollout", "status", $"deployment/{name}", "--timeout=60s"));
        Assert.Matches(@"(?m)^1\s+<none>\s*\n2\s+<none>", await OkAsync("rollout", "history", $"deployment/{name}"));

        Assert.Contains("rolled back", await OkAsync("rollout", "undo", $"deployment/{name}"));
        Assert.Contains("successfully rolled out", await OkAsync("rollout", "status", $"deployment/{name}", "--timeout=60s"));
        Assert.Equal(2, await ReplicaSetCountAsync(name));
        Assert.Matches(@"(?m)^2\s+<none>\s*\n3\s+<none>", await OkAsync("rollout", "history", $"deployment/{name}"));
        Assert.Matches($@"NewReplicaSet:\s+{first} \(3/3 replicas created\)", await OkAsync("describe", "deployment", name));
        Assert.Equal("nginx:1.27", (await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default")).Spec.Template.Spec.Containers.Single().Image);

        Assert.Contains("restarted", await OkAsync("rollout", "restart", $"deployment/{name}"));
        Assert.Contains("successfully rolled out", await OkAsync("rollout", "status", $"deployment/{name}", "--timeout=60s"));
        Assert.Equal(3, await ReplicaSetCountAsync(name));
        Assert.NotNull((await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default")).Spec.Template.Metadata.Annotations["kubectl.kubernetes.io/restartedAt"]);
    }

    [Fact]
    public async Task Kubectl_LogsLabelAnnotatePatchEditWaitDelete_BehaveAsOnARealServer()
    {
        var name = Unique("ops");
        await OkAsync("apply", "-f", await DeploymentFileAsync(name));
        Assert.Contains("condition met", await OkAsync("wait", "--for=condition=Available", $"deployment/{name}", "--timeout=60s"));
        var pod = (await PodsOfAsync(name)).Single().Metadata.Name;
        await Eventually(async () => (await OkAsync("logs", pod)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 3, "three log lines");

        Assert.Equal(3, (await OkAsync("logs", pod, "--tail=3")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \S", await OkAsync("logs", $"deployment/{name}", "--tail=1", "--timestamps"));
        Assert.Matches($@"^\[pod/{pod}/web\] ", await OkAsync("logs", "-l", $"app={name}", "--tail=1", "--prefix"));
        Assert.True((await OkAsync("logs", pod, "--limit-bytes=12")).Length <= 12);
        Assert.NotEmpty(await OkAsync("logs", pod, "--since=1h", "-c", "web"));

        Assert.Contains("labeled", await OkAsync("label", "deployment", name, "stage=qa"));
        Assert.Contains("annotated", await OkAsync("annotate", "deployment", name, "owner=team-a"));
        await OkAsync("patch", "deployment", name, "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"MODE","value":"fast"}]}]}}}}""");
        await OkAsync("patch", "deployment", name, "--type=merge", "-p", """{"metadata":{"labels":{"stage":null}}}""");
        await OkAsync("patch", "deployment", name, "--type=json", "-p", """[{"op":"replace","path":"/spec/replicas","value":2}]""");
        var d = await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default");
        Assert.False(d.Metadata.Labels.ContainsKey("stage"));
        Assert.Equal("team-a", d.Metadata.Annotations["owner"]);
        Assert.Equal(2, d.Spec.Replicas);
        var container = d.Spec.Template.Spec.Containers.Single();
        Assert.Equal(("nginx:1.27", "MODE", "fast"), (container.Image, container.Env.Single().Name, container.Env.Single().Value));

        var editor = await WriteAsync("editor.sh", "#!/bin/sh\nsed -i 's/replicas: 2/replicas: 1/' \"$1\"\n");
        var edit = await RunWithAsync(new Dictionary<string, string> { ["KUBE_EDITOR"] = $"/bin/sh {editor}" }, "edit", $"deployment/{name}");
        Assert.True(edit.Exit == 0, edit.Err);
        Assert.Contains($"deployment.apps/{name} edited", edit.Out);
        Assert.Equal(1, (await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default")).Spec.Replicas);

        Assert.Contains($"deployment.apps \"{name}\" deleted", await OkAsync("delete", "deployment", name));
        await OkAsync("wait", "--for=delete", $"pod/{pod}", "--timeout=60s");
        Assert.Contains("NotFound", (await FailsAsync("get", "deployment", name)).Err);
        Assert.Contains("NotFound", (await FailsAsync("delete", "deployment", name)).Err);
    }

    [Fact]
    public async Task Kubectl_AuthAndClusterBasics_AnswerAsARealServer()
    {
        Assert.Equal("yes", (await OkAsync("auth", "can-i", "create", "deployments")).Trim());
        Assert.Equal("yes", (await OkAsync("auth", "can-i", "delete", "pods", "-n", "kube-system")).Trim());
        Assert.Matches(@"Username\s+system:anonymous", await OkAsync("auth", "whoami"));
        Assert.Matches(@"(?m)^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]", await OkAsync("auth", "can-i", "--list"));

        Assert.Matches(@"(?m)^default\s+service/kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443/TCP", await OkAsync("get", "all", "-A"));
        var resources = await OkAsync("api-resources");
        Assert.Matches(@"(?m)^deployments\s+deploy\s+apps/v1\s+true\s+Deployment", resources);
        Assert.Matches(@"(?m)^selfsubjectaccessreviews\s+authorization\.k8s\.io/v1\s+false\s+SelfSubjectAccessReview", resources);
        Assert.Matches(@"(?m)^applications\s+app,apps\s+argoproj\.io/v1alpha1\s+true\s+Application", resources);
        Assert.Contains("NotFound", (await FailsAsync("get", "--raw", "/apis/apps/v1beta1/namespaces/default/deployments")).Err);
        Assert.Matches(new Regex("Server Version: v1\\.\\d+"), await OkAsync("version"));
    }
}

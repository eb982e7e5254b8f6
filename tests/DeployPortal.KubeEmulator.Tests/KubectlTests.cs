using System.Net;
using k8s;
using k8s.Autorest;

namespace DeployPortal.KubeEmulator.Tests;

/// <summary>The stock kubectl (/usr/bin/kubectl) pointed at the emulator with --server.</summary>
public sealed class KubectlTests : KubectlTestBase
{
    private async Task<string> WriteManifestAsync(string name, string image = "nginx:1.27", int replicas = 1)
    {
        var path = Path.Combine(Home, $"{name}.yaml");
        await File.WriteAllTextAsync(path, $"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {name}
              namespace: default
            spec:
              replicas: {replicas}
              selector:
                matchLabels: {"{"}app: {name}{"}"}
              template:
                metadata:
                  labels: {"{"}app: {name}{"}"}
                spec:
                  containers:
                  - name: web
                    image: {image}
                    ports:
                    - containerPort: 80
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: {name}
              namespace: default
            spec:
              selector: {"{"}app: {name}{"}"}
              ports:
              - port: 80
            ---
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata:
              name: {name}
              namespace: default
            spec:
              rules:
              - host: {name}.example.test
                http:
                  paths:
                  - path: /
                    pathType: Prefix
                    backend:
                      service:
                        name: {name}
                        port:
                          number: 80
            """);
        return path;
    }

    private async Task<string> ApplyAndWaitReadyAsync(string name, int replicas = 1)
    {
        var output = await OkAsync("apply", "--server-side", "-f", await WriteManifestAsync(name, replicas: replicas));
        await Eventually(async () => (await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default")).Status?.AvailableReplicas == replicas, "deployment available");
        return output;
    }

    [Fact]
    public async Task Kubectl_ApplyServerSide_CreatesDeploymentServiceAndIngress()
    {
        var name = Unique("app");
        var output = await ApplyAndWaitReadyAsync(name);
        Assert.Contains($"deployment.apps/{name} serverside-applied", output);
        Assert.Contains($"service/{name} serverside-applied", output);
        Assert.Contains($"ingress.networking.k8s.io/{name} serverside-applied", output);
        var d = await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default");
        Assert.Contains(d.Metadata.ManagedFields, m => m.Manager == "kubectl" && m.Operation == "Apply");

        // Re-applying the same manifest is a no-op that still succeeds.
        Assert.Contains("serverside-applied", await OkAsync("apply", "--server-side", "-f", await WriteManifestAsync(name)));
    }

    [Fact]
    public async Task Kubectl_Get_PrintsServerSideTables()
    {
        var name = Unique("app");
        await ApplyAndWaitReadyAsync(name, replicas: 2);

        var ns = await OkAsync("get", "namespaces");
        Assert.Matches(@"^NAME\s+STATUS\s+AGE", ns);
        Assert.Matches(@"(?m)^default\s+Active\s+\d+", ns);

        var deploy = await OkAsync("get", "deployments");
        Assert.Matches(@"^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE", deploy);
        Assert.Matches($@"(?m)^{name}\s+2/2\s+2\s+2\s+", deploy);

        var pods = await OkAsync("get", "pods", "-l", $"app={name}");
        Assert.Matches(@"^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE", pods);
        Assert.Equal(2, pods.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{name}-\S+\s+1/1\s+Running\s+0\s+")));

        var svc = await OkAsync("get", "services");
        Assert.Matches(@"^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE", svc);
        Assert.Matches($@"(?m)^{name}\s+ClusterIP\s+10\.96\.\S+\s+<none>\s+80/TCP", svc);

        var ing = await OkAsync("get", "ingresses");
        Assert.Matches(@"^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE", ing);
        Assert.Matches($@"(?m)^{name}\s+<none>\s+{name}\.example\.test\s+127\.0\.0\.1\s+80", ing);

        var wide = await OkAsync("get", "pods", "-o", "wide", "-l", $"app={name}");
        Assert.Contains("emulator-node", wide);
    }

    [Fact]
    public async Task Kubectl_Describe_ShowsPodAndDeploymentDetailsWithEvents()
    {
        var name = Unique("app");
        await ApplyAndWaitReadyAsync(name);
        var pod = (await PodsOfAsync(name)).Single().Metadata.Name;

        var describePod = await OkAsync("describe", "pod", pod);
        Assert.Matches($@"Name:\s+{pod}", describePod);
        Assert.Matches(@"Status:\s+Running", describePod);
        Assert.Matches(@"Controlled By:\s+ReplicaSet/" + name, describePod);
        Assert.Matches(@"Ready:\s+True", describePod);
        Assert.Contains("Successfully assigned default/" + pod, describePod);
        Assert.Contains("Started container web", describePod);

        var describeDeploy = await OkAsync("describe", "deployment", name);
        Assert.Matches(@"Replicas:\s+1 desired \| 1 updated \| 1 total \| 1 available \| 0 unavailable", describeDeploy);
        Assert.Matches(@"Progressing\s+True\s+NewReplicaSetAvailable", describeDeploy);
        Assert.Matches($@"NewReplicaSet:\s+{name}-\S+ \(1/1 replicas created\)", describeDeploy);
        Assert.Contains("ScalingReplicaSet", describeDeploy);
    }

    [Fact]
    public async Task Kubectl_Delete_RemovesTheObjects()
    {
        var name = Unique("app");
        await ApplyAndWaitReadyAsync(name);
        var output = await OkAsync("delete", "-f", Path.Combine(Home, $"{name}.yaml"));
        Assert.Contains($"deployment.apps \"{name}\" deleted", output);
        Assert.Contains($"service \"{name}\" deleted", output);
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default"));
        Assert.Equal(HttpStatusCode.NotFound, ex.Response.StatusCode);
        await Eventually(async () => (await PodsOfAsync(name)).Count == 0, "pods garbage-collected");

        var (exit, _, stderr) = await RunAsync("delete", "deployment", name);
        Assert.NotEqual(0, exit);
        Assert.Contains("NotFound", stderr);
    }

    [Fact]
    public async Task Kubectl_GetWatch_PrintsPodsAsTheyChange()
    {
        var name = Unique("app");
        var watchesBefore = Server.ActiveWatches;
        var lines = await StreamUntilAsync(
            l => l.Contains("1/1") && l.Contains("Running"),
            async () =>
            {
                await Eventually(() => Task.FromResult(Server.ActiveWatches > watchesBefore), "kubectl is watching");
                await ApplyAsync(Deployment(name, "nginx"));
            },
            "get", "pods", "-w", "-l", $"app={name}");
        Assert.Contains(lines, l => l.StartsWith(name + "-", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("ContainerCreating") || l.Contains("Pending"));
    }

    [Fact]
    public async Task Kubectl_LogsFollow_StreamsContainerLogs()
    {
        var name = Unique("app");
        await ApplyAndWaitReadyAsync(name);
        var pod = (await PodsOfAsync(name)).Single().Metadata.Name;
        var count = 0;
        var lines = await StreamUntilAsync(_ => ++count >= 20, null, "logs", "-f", pod);
        Assert.Equal(20, lines.Count);
        Assert.Contains(lines, l => l.Contains("nginx/1.27"));
        Assert.Contains(lines, l => l.Contains("HTTP/1.1\""));
    }
}

using System.Net;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DeployPortal.KubeEmulator.Tests;

public sealed class ApiTests : EmulatorTestBase
{
    [Fact]
    public async Task Apply_NewDeployment_CreatesItAndReadsBackWithDefaultsAndManagedFields()
    {
        var name = Unique("web");
        var applied = await ApplyAsync(Deployment(name, "nginx:1.27", replicas: 2));

        var read = await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default");
        Assert.Equal(applied.Metadata.Uid, read.Metadata.Uid);
        Assert.Equal(2, read.Spec.Replicas);
        Assert.Equal("nginx:1.27", read.Spec.Template.Spec.Containers[0].Image);
        Assert.Equal("RollingUpdate", read.Spec.Strategy.Type);
        Assert.Equal(1, read.Metadata.Generation);
        Assert.Contains(read.Metadata.ManagedFields, m => m.Manager == "portal-tests" && m.Operation == "Apply");
        Assert.False(string.IsNullOrEmpty(read.Metadata.ResourceVersion));
    }

    [Fact]
    public async Task Apply_ChangedSpec_BumpsGenerationAndResourceVersion()
    {
        var name = Unique("web");
        var first = await ApplyAsync(Deployment(name, "nginx:1.27"));
        var second = await ApplyAsync(Deployment(name, "nginx:1.28"));
        Assert.Equal(2, second.Metadata.Generation);
        Assert.True(long.Parse(second.Metadata.ResourceVersion) > long.Parse(first.Metadata.ResourceVersion));
        Assert.Equal("nginx:1.28", second.Spec.Template.Spec.Containers[0].Image);
    }

    [Fact]
    public async Task Apply_FieldOwnedByAnotherManager_Returns409ConflictUnlessForced()
    {
        var name = Unique("web");
        await ApplyAsync(Deployment(name, "nginx:1.27", replicas: 1), manager: "owner-a");
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => ApplyAsync(Deployment(name, "nginx:1.27", replicas: 3), manager: "owner-b"));
        Assert.Equal(HttpStatusCode.Conflict, ex.Response.StatusCode);
        var status = JsonSerializer.Deserialize<V1Status>(ex.Response.Content)!;
        Assert.Equal("Conflict", status.Reason);
        Assert.Contains(".spec.replicas", status.Message);
        Assert.Contains("owner-a", status.Message);

        var forced = await ApplyAsync(Deployment(name, "nginx:1.27", replicas: 3), manager: "owner-b", force: true);
        Assert.Equal(3, forced.Spec.Replicas);
    }

    [Fact]
    public async Task Get_MissingObject_Returns404StatusBody()
    {
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.AppsV1.ReadNamespacedDeploymentAsync("nope", "default"));
        Assert.Equal(HttpStatusCode.NotFound, ex.Response.StatusCode);
        var status = JsonSerializer.Deserialize<V1Status>(ex.Response.Content)!;
        Assert.Equal("Status", status.Kind);
        Assert.Equal("Failure", status.Status);
        Assert.Equal("NotFound", status.Reason);
        Assert.Equal(404, status.Code);
        Assert.Equal("deployments.apps \"nope\" not found", status.Message);
        Assert.Equal("nope", status.Details.Name);
        Assert.Equal("deployments", status.Details.Kind);
    }

    [Fact]
    public async Task Create_ExistingName_Returns409AlreadyExists()
    {
        var name = Unique("svc");
        var svc = new V1Service { Metadata = new V1ObjectMeta { Name = name }, Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 80 }] } };
        var created = await Client.CoreV1.CreateNamespacedServiceAsync(svc, "default");
        Assert.StartsWith("10.96.", created.Spec.ClusterIP);
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.CreateNamespacedServiceAsync(svc, "default"));
        Assert.Equal(HttpStatusCode.Conflict, ex.Response.StatusCode);
        Assert.Equal("AlreadyExists", JsonSerializer.Deserialize<V1Status>(ex.Response.Content)!.Reason);
    }

    [Fact]
    public async Task Create_InvalidName_Returns422Invalid()
    {
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("Bad_Name", "nginx"), "default"));
        Assert.Equal((HttpStatusCode)422, ex.Response.StatusCode);
        var status = JsonSerializer.Deserialize<V1Status>(ex.Response.Content)!;
        Assert.Equal("Invalid", status.Reason);
        Assert.StartsWith("Deployment.apps \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\"", status.Message);
        Assert.Contains(status.Details.Causes, c => c.Field == "metadata.name" && c.Reason == "FieldValueInvalid");
    }

    [Fact]
    public async Task Create_InMissingNamespace_Returns404ForNamespace()
    {
        var d = Deployment("x", "nginx");
        d.Metadata.NamespaceProperty = null;
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.AppsV1.CreateNamespacedDeploymentAsync(d, "nowhere"));
        Assert.Equal(HttpStatusCode.NotFound, ex.Response.StatusCode);
        Assert.Equal("namespaces \"nowhere\" not found", StatusOf(ex).Message);
    }

    [Fact]
    public async Task Replace_StaleResourceVersion_Returns409Conflict()
    {
        var name = Unique("cm");
        var cm = await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name }, Data = new Dictionary<string, string> { ["a"] = "1" } }, "default");
        cm.Data["a"] = "2";
        var updated = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(cm, name, "default");
        Assert.Equal("2", updated.Data["a"]);
        cm.Data["a"] = "3"; // still carries the old resourceVersion
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReplaceNamespacedConfigMapAsync(cm, name, "default"));
        Assert.Equal(HttpStatusCode.Conflict, ex.Response.StatusCode);
        Assert.Contains("the object has been modified", StatusOf(ex).Message);
    }

    [Fact]
    public async Task List_WithLabelSelectors_FiltersEqualitySetAndExistence()
    {
        var prefix = Unique("sel");
        foreach (var (n, tier) in new[] { ("a", "web"), ("b", "db"), ("c", "cache") })
        {
            await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
            {
                Metadata = new V1ObjectMeta { Name = $"{prefix}-{n}", Labels = new Dictionary<string, string> { ["suite"] = prefix, ["tier"] = tier } },
            }, "default");
        }

        async Task<string[]> Names(string selector) =>
            (await Client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: selector)).Items.Select(i => i.Metadata.Name[(prefix.Length + 1)..]).Order().ToArray();

        Assert.Equal(["a"], await Names($"suite={prefix},tier=web"));
        Assert.Equal(["b", "c"], await Names($"suite={prefix},tier!=web"));
        Assert.Equal(["a", "c"], await Names($"suite={prefix},tier in (web,cache)"));
        Assert.Equal(["b"], await Names($"suite={prefix},tier notin (web,cache)"));
        Assert.Equal(["a", "b", "c"], await Names($"suite={prefix},tier"));
        Assert.Empty(await Names($"suite={prefix},!tier"));
    }

    [Fact]
    public async Task DeleteCollection_ByLabelSelector_DeletesOnlyMatching()
    {
        var prefix = Unique("del");
        for (var i = 0; i < 4; i++)
        {
            await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
            {
                Metadata = new V1ObjectMeta { Name = $"{prefix}-{i}", Labels = new Dictionary<string, string> { ["suite"] = prefix, ["even"] = (i % 2 == 0).ToString().ToLowerInvariant() } },
            }, "default");
        }

        await Client.CoreV1.DeleteCollectionNamespacedConfigMapAsync("default", labelSelector: $"suite={prefix},even=true");
        var left = (await Client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: $"suite={prefix}")).Items.Select(i => i.Metadata.Name).Order();
        Assert.Equal([$"{prefix}-1", $"{prefix}-3"], left);
    }

    [Fact]
    public async Task Delete_Deployment_ReturnsSuccessStatusAndThen404()
    {
        var name = Unique("web");
        await ApplyAsync(Deployment(name, "nginx"));
        var status = await Client.AppsV1.DeleteNamespacedDeploymentAsync(name, "default");
        Assert.Equal("Success", status.Status);
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default"));
        Assert.Equal(HttpStatusCode.NotFound, ex.Response.StatusCode);
    }

    [Fact]
    public async Task ResourceVersion_AcrossWrites_IncreasesMonotonically()
    {
        var rvs = new List<long>();
        var name = Unique("cm");
        var cm = await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name } }, "default");
        rvs.Add(long.Parse(cm.Metadata.ResourceVersion));
        for (var i = 0; i < 3; i++)
        {
            var patch = new V1Patch($"{{\"data\":{{\"k\":\"{i}\"}}}}", V1Patch.PatchType.MergePatch);
            rvs.Add(long.Parse((await Client.CoreV1.PatchNamespacedConfigMapAsync(patch, name, "default")).Metadata.ResourceVersion));
        }
        Assert.Equal(rvs.Order(), rvs);
        Assert.Equal(rvs.Count, rvs.Distinct().Count());
        var list = await Client.CoreV1.ListNamespacedConfigMapAsync("default");
        Assert.True(long.Parse(list.Metadata.ResourceVersion) >= rvs[^1]);
    }

    [Fact]
    public async Task Discovery_VersionAndGroups_AreServed()
    {
        var version = await Client.Version.GetCodeAsync();
        Assert.Equal("1", version.Major);
        var groups = await Client.Apis.GetAPIVersionsAsync();
        Assert.Contains(groups.Groups, g => g.Name == "apps");
        Assert.Contains(groups.Groups, g => g.Name == "networking.k8s.io");
        var core = await Client.CoreV1.GetAPIResourcesAsync();
        Assert.Contains(core.Resources, r => r.Name == "pods/log");
        var apps = await Client.AppsV1.GetAPIResourcesAsync();
        Assert.Contains(apps.Resources, r => r.Name == "deployments" && r.Namespaced && r.ShortNames.Contains("deploy"));
        var net = await Client.NetworkingV1.GetAPIResourcesAsync();
        Assert.Contains(net.Resources, r => r.Name == "ingresses");
    }

    [Fact]
    public async Task Namespaces_CreateAndDelete_RemovesContainedObjects()
    {
        var ns = Unique("team");
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "c" } }, ns);
        Assert.Contains((await Client.CoreV1.ListNamespaceAsync()).Items, n => n.Metadata.Name == ns && n.Status.Phase == "Active");
        await Client.CoreV1.DeleteNamespaceAsync(ns);
        Assert.Empty((await Client.CoreV1.ListConfigMapForAllNamespacesAsync(fieldSelector: $"metadata.namespace={ns}")).Items);
    }

    [Fact]
    public async Task Ingress_ApplyAndRead_HasLoadBalancerAddress()
    {
        var name = Unique("ing");
        var ing = new V1Ingress
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "Ingress",
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1IngressSpec { Rules = [new V1IngressRule { Host = "app.local" }] },
        };
        await Client.NetworkingV1.PatchNamespacedIngressAsync(new V1Patch(ing, V1Patch.PatchType.ApplyPatch), name, "default", fieldManager: "t");
        var read = await Client.NetworkingV1.ReadNamespacedIngressAsync(name, "default");
        Assert.Equal("app.local", read.Spec.Rules[0].Host);
        Assert.Equal("127.0.0.1", read.Status.LoadBalancer.Ingress[0].Ip);
    }

    [Fact]
    public async Task Apply_WithoutFieldManager_Returns422()
    {
        using var content = new StringContent("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}", Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/apply-patch+yaml");
        using var resp = await Http.PatchAsync("api/v1/namespaces/default/configmaps/x", content);
        Assert.Equal((HttpStatusCode)422, resp.StatusCode);
    }
}

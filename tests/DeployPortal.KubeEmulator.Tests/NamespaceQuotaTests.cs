using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DeployPortal.KubeEmulator.Tests;

/// <summary>What the portal's elastic slots need of the emulator: namespaces with a ResourceQuota and a LimitRange, made by server-side apply and gone with their namespace.</summary>
public sealed class NamespaceQuotaTests : EmulatorTestBase
{
    [Fact]
    public async Task NamespaceWithQuotaAndLimitRange_AppliedReadBack_AndDeletedWithTheNamespace()
    {
        var ns = Unique("qa-e");
        var labels = new Dictionary<string, string> { ["deployportal.io/elastic"] = "true" };
        await Client.CoreV1.PatchNamespaceAsync(new V1Patch(new V1Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new V1ObjectMeta { Name = ns, Labels = labels } },
            V1Patch.PatchType.ApplyPatch), ns, fieldManager: "tests", force: true);
        var quota = new V1ResourceQuota
        {
            ApiVersion = "v1",
            Kind = "ResourceQuota",
            Metadata = new V1ObjectMeta { Name = "budget", NamespaceProperty = ns },
            Spec = new V1ResourceQuotaSpec { Hard = new Dictionary<string, ResourceQuantity> { ["requests.cpu"] = new("2"), ["requests.memory"] = new("4Gi"), ["pods"] = new("20") } },
        };
        await Client.CoreV1.PatchNamespacedResourceQuotaAsync(new V1Patch(quota, V1Patch.PatchType.ApplyPatch), "budget", ns, fieldManager: "tests", force: true);
        var limits = new V1LimitRange
        {
            ApiVersion = "v1",
            Kind = "LimitRange",
            Metadata = new V1ObjectMeta { Name = "defaults", NamespaceProperty = ns },
            Spec = new V1LimitRangeSpec
            {
                Limits = [new V1LimitRangeItem { Type = "Container", DefaultProperty = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("500m") } }],
            },
        };
        await Client.CoreV1.CreateNamespacedLimitRangeAsync(limits, ns);

        Assert.Equal("true", (await Client.CoreV1.ReadNamespaceAsync(ns)).Metadata.Labels["deployportal.io/elastic"]);
        var readQuota = await Client.CoreV1.ReadNamespacedResourceQuotaAsync("budget", ns);
        Assert.Equal("4Gi", readQuota.Spec.Hard["requests.memory"].ToString());
        Assert.Equal("500m", (await Client.CoreV1.ReadNamespacedLimitRangeAsync("defaults", ns)).Spec.Limits[0].DefaultProperty["cpu"].ToString());
        Assert.Single((await Client.CoreV1.ListNamespaceAsync(labelSelector: "deployportal.io/elastic=true")).Items, n => n.Metadata.Name == ns);

        // Creating it again is refused as a real server would; applying it again changes nothing.
        var again = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.CreateNamespacedLimitRangeAsync(limits, ns));
        Assert.Equal(HttpStatusCode.Conflict, again.Response.StatusCode);

        await Client.CoreV1.DeleteNamespaceAsync(ns);
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReadNamespacedResourceQuotaAsync("budget", ns));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
        Assert.Empty((await Client.CoreV1.ListNamespacedLimitRangeAsync(ns)).Items);
        var nsGone = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReadNamespaceAsync(ns));
        Assert.Equal(HttpStatusCode.NotFound, nsGone.Response.StatusCode);
    }

    [Fact]
    public async Task QuotaWithAnUnknownField_IsRefusedUnderStrictValidation()
    {
        var ns = Unique("qa-e");
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        var body = new StringContent("""{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q"},"spec":{"hardd":{"pods":"1"}}}""",
            System.Text.Encoding.UTF8, "application/json");
        var response = await Http.PostAsync($"api/v1/namespaces/{ns}/resourcequotas?fieldValidation=Strict", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("hardd", await response.Content.ReadAsStringAsync());
    }
}

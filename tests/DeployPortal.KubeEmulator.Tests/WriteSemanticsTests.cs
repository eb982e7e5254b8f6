using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Controllers;
using Google.Protobuf;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DeployPortal.KubeEmulator.Tests;

/// <summary>Dry runs, field validation, Protobuf bodies, the apply ownership rules and the template hash, at the API.</summary>
public sealed class WriteSemanticsTests : EmulatorTestBase
{
    private async Task<V1ConfigMap> ConfigMapAsync(string name, string team = "a") =>
        await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["team"] = team } },
            Data = new Dictionary<string, string> { ["k"] = "1" },
        }, "default");

    [Fact]
    public async Task DryRun_ReplaceAndDelete_AnswerButStoreNothing()
    {
        var name = Unique("cm");
        var cm = await ConfigMapAsync(name);
        cm.Data["k"] = "2";
        var answer = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(cm, name, "default", dryRun: "All");
        Assert.Equal("2", answer.Data["k"]);
        Assert.Equal(cm.Metadata.ResourceVersion, answer.Metadata.ResourceVersion);

        using var delete = await Http.DeleteAsync($"api/v1/namespaces/default/configmaps/{name}?dryRun=All");
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        using var deleteCollection = await Http.DeleteAsync("api/v1/namespaces/default/configmaps?labelSelector=team%3Da&dryRun=All");
        Assert.Contains(name, await deleteCollection.Content.ReadAsStringAsync());

        var stored = await Client.CoreV1.ReadNamespacedConfigMapAsync(name, "default");
        Assert.Equal(("1", cm.Metadata.ResourceVersion), (stored.Data["k"], stored.Metadata.ResourceVersion));
    }

    [Fact]
    public async Task DryRun_CreateOfATakenName_IsAlreadyExists_AndAnUnknownValueIsRefused()
    {
        var name = Unique("cm");
        await ConfigMapAsync(name);
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name } }, "default", dryRun: "All"));
        Assert.Equal(HttpStatusCode.Conflict, ex.Response.StatusCode);

        using var bad = await Http.DeleteAsync($"api/v1/namespaces/default/configmaps/{name}?dryRun=Some");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        await Client.CoreV1.ReadNamespacedConfigMapAsync(name, "default");
    }

    [Fact]
    public async Task FieldValidation_OnPatch_StrictRefusesWarnWarnsInAHeader()
    {
        var name = Unique("cm");
        await ConfigMapAsync(name);
        var patch = new StringContent("""{"datta":{"x":"y"}}""", Encoding.UTF8, "application/merge-patch+json");
        using var strict = await Http.PatchAsync($"api/v1/namespaces/default/configmaps/{name}?fieldValidation=Strict", patch);
        Assert.Equal(HttpStatusCode.BadRequest, strict.StatusCode);
        Assert.Equal("strict decoding error: unknown field \"datta\"", JsonNode.Parse(await strict.Content.ReadAsStringAsync())!["message"]!.GetValue<string>());

        using var warn = await Http.PatchAsync($"api/v1/namespaces/default/configmaps/{name}", new StringContent("""{"datta":{"x":"y"}}""", Encoding.UTF8, "application/merge-patch+json"));
        Assert.Equal(HttpStatusCode.OK, warn.StatusCode);
        Assert.Equal(["299 - \"unknown field \\\"datta\\\"\""], warn.Headers.GetValues("Warning"));
        Assert.DoesNotContain("datta", await warn.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Apply_SameValueAsAnotherManager_SharesTheFieldSoALaterChangeConflicts()
    {
        var name = Unique("web");
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment(name, "nginx:1.27"), "default", fieldManager: "creator");
        // Live containers carry defaults (imagePullPolicy, ...): the same configuration is not a conflict.
        await ApplyAsync(Deployment(name, "nginx:1.27"), manager: "applier");
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => ApplyAsync(Deployment(name, "nginx:1.28"), manager: "applier"));
        Assert.Equal(HttpStatusCode.Conflict, ex.Response.StatusCode);
        Assert.Contains("conflict with \"creator\"", StatusOf(ex).Message);
    }

    [Fact]
    public async Task Protobuf_ConfigMapEnvelope_IsDecoded_AndAnUnknownFieldIsRefused()
    {
        var name = Unique("cm");
        using var created = await PostProtobufAsync("api/v1/namespaces/default/configmaps", "v1", "ConfigMap", o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited); // metadata
            o.WriteBytes(Message(m => { m.WriteTag(1, WireFormat.WireType.LengthDelimited); m.WriteString(name); }));
            o.WriteTag(2, WireFormat.WireType.LengthDelimited); // data entry
            o.WriteBytes(Message(e =>
            {
                e.WriteTag(1, WireFormat.WireType.LengthDelimited);
                e.WriteString("greeting");
                e.WriteTag(2, WireFormat.WireType.LengthDelimited);
                e.WriteString("hello");
            }));
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("hello", (await Client.CoreV1.ReadNamespacedConfigMapAsync(name, "default")).Data["greeting"]);

        using var refused = await PostProtobufAsync("api/v1/namespaces/default/configmaps", "v1", "ConfigMap", o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(Message(m => { m.WriteTag(1, WireFormat.WireType.LengthDelimited); m.WriteString(Unique("cm")); }));
            o.WriteTag(99, WireFormat.WireType.Varint);
            o.WriteInt64(7);
        });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
        Assert.Contains("field 99 of ConfigMap", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public void TemplateHash_IgnoresKeyOrderAndNulls_ButNotContent()
    {
        var a = JsonNode.Parse("""{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}""");
        var b = JsonNode.Parse("""{"spec":{"containers":[{"image":"nginx:1.27","name":"web"}]},"metadata":{"creationTimestamp":null,"labels":{"app":"web","pod-template-hash":"abc"}}}""");
        var c = JsonNode.Parse("""{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}""");
        Assert.Equal(PodTemplateHash.Of(a), PodTemplateHash.Of(b));
        Assert.NotEqual(PodTemplateHash.Of(a), PodTemplateHash.Of(c));
    }

    private static ByteString Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        write(output);
        output.Flush();
        return ByteString.CopyFrom(buffer.ToArray());
    }

    /// <summary>POSTs an object in the Kubernetes Protobuf envelope ("k8s\0" + runtime.Unknown), as kubectl's typed clients do.</summary>
    private async Task<HttpResponseMessage> PostProtobufAsync(string path, string apiVersion, string kind, Action<CodedOutputStream> writeObject)
    {
        var envelope = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(Message(t =>
            {
                t.WriteTag(1, WireFormat.WireType.LengthDelimited);
                t.WriteString(apiVersion);
                t.WriteTag(2, WireFormat.WireType.LengthDelimited);
                t.WriteString(kind);
            }));
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(Message(writeObject));
        });
        var content = new ByteArrayContent([.. "k8s\0"u8.ToArray(), .. envelope.ToByteArray()]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.kubernetes.protobuf");
        return await Http.PostAsync(path, content);
    }
}

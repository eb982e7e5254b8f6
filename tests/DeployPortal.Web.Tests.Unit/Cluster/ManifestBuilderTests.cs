using System.Text.Json;
using DeployPortal.Web.Cluster;
using k8s.Models;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Tests.Cluster;

/// <summary>The objects, labels and patches the portal writes, built without a cluster.</summary>
public sealed class ManifestBuilderTests
{
    private readonly ManifestBuilder _builder = new(Options.Create(new ClusterOptions { ProgressDeadlineSeconds = 90, HostPattern = "{app}.{slot}.qa.example.org" }));

    private static AppManifest Manifest(long? holdId = 7, string branch = "feature/login", string commit = "0123456789abcdef0123") =>
        new("slot-qa-1", "qa-1", "storefront", "registry.example.com/shop/storefront:feature-login", 8080, 2,
            new Dictionary<string, string> { ["MODE"] = "qa" }, "50m", "64Mi",
            new ManifestOrigin(42, holdId, branch, commit, "dana@example.com", "Dana Developer"));

    [Fact]
    public void Labels_NameTheAppManagerSlotHoldAndDeployment_WithBranchAndRequesterAsValidLabels()
    {
        var labels = ManifestBuilder.Labels(Manifest());

        Assert.Equal("storefront", labels[ManifestBuilder.AppLabel]);
        Assert.Equal(ManifestBuilder.FieldManager, labels[ManifestBuilder.ManagedByLabel]);
        Assert.Equal("qa-1", labels["deployportal.io/slot"]);
        Assert.Equal("7", labels[ManifestBuilder.HoldLabel]);
        Assert.Equal("42", labels["deployportal.io/deployment"]);
        Assert.Equal("0123456789ab", labels["deployportal.io/commit"]);
        Assert.Matches("^feature-login-[a-z0-9]{6}$", labels["deployportal.io/branch"]);
        Assert.Matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", labels["deployportal.io/requester"]);
        Assert.Equal(8, labels.Count);
    }

    [Fact]
    public void Labels_WithoutAHold_SayNone()
    {
        Assert.Equal("none", ManifestBuilder.Labels(Manifest(holdId: null))[ManifestBuilder.HoldLabel]);
    }

    [Fact]
    public void Annotations_KeepTheBranchCommitAndRequesterAsTheyWere()
    {
        var annotations = ManifestBuilder.Annotations(Manifest());

        Assert.Equal("feature/login", annotations["deployportal.io/branch"]);
        Assert.Equal("0123456789abcdef0123", annotations["deployportal.io/commit"]);
        Assert.Equal("Dana Developer", annotations["deployportal.io/requested-by"]);
    }

    [Fact]
    public void Build_Deployment_SelectsByAppOnly_AndItsPodsCarryEveryLabel()
    {
        var deployment = _builder.Build(Manifest()).Deployment;

        Assert.Equal(("storefront", "slot-qa-1"), (deployment.Metadata.Name, deployment.Metadata.NamespaceProperty));
        Assert.Equal(new Dictionary<string, string> { [ManifestBuilder.AppLabel] = "storefront" }, deployment.Spec.Selector.MatchLabels);
        Assert.Equal(ManifestBuilder.Labels(Manifest()), deployment.Spec.Template.Metadata.Labels);
        Assert.Equal(ManifestBuilder.Labels(Manifest()), deployment.Metadata.Labels);
        Assert.Equal(2, deployment.Spec.Replicas);
        Assert.Equal(90, deployment.Spec.ProgressDeadlineSeconds);
        var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
        Assert.Equal(("storefront", "registry.example.com/shop/storefront:feature-login"), (container.Name, container.Image));
        Assert.Equal(8080, Assert.Single(container.Ports).ContainerPort);
        Assert.Equal(("MODE", "qa"), (Assert.Single(container.Env).Name, container.Env[0].Value));
        Assert.Equal(("50m", "64Mi"), (container.Resources.Requests["cpu"].ToString(), container.Resources.Requests["memory"].ToString()));
    }

    [Fact]
    public void Build_ServiceAndIngress_RouteTheSlotsHostToTheAppsPort()
    {
        var objects = _builder.Build(Manifest());

        Assert.Equal(new Dictionary<string, string> { [ManifestBuilder.AppLabel] = "storefront" }, objects.Service.Spec.Selector);
        var port = Assert.Single(objects.Service.Spec.Ports);
        Assert.Equal((80, "8080"), (port.Port, port.TargetPort.Value));
        var rule = Assert.Single(objects.Ingress.Spec.Rules);
        Assert.Equal("storefront.qa-1.qa.example.org", rule.Host);
        Assert.Equal("storefront", Assert.Single(rule.Http.Paths).Backend.Service.Name);
        Assert.Equal(ManifestBuilder.Labels(Manifest()), objects.Ingress.Metadata.Labels);
    }

    [Fact]
    public void HostFor_FillsThePattern()
    {
        Assert.Equal("web.qa-2.qa.example.org", _builder.HostFor("web", "qa-2"));
    }

    [Fact]
    public void Selectors_MatchTheLabelsTheyAreMadeFrom()
    {
        Assert.Equal("app.kubernetes.io/name=web", ManifestBuilder.AppSelector("web"));
        Assert.Equal("app.kubernetes.io/managed-by=deployportal,deployportal.io/hold=7", ManifestBuilder.HoldSelector(7));
        Assert.Equal(ManifestBuilder.FieldManager, ManifestBuilder.Namespace("slot-qa-1").Metadata.Labels[ManifestBuilder.ManagedByLabel]);
    }

    [Fact]
    public void SleepPatch_RemembersTheReplicas_AndIsNullForADeploymentAlreadyAsleep()
    {
        var awake = new V1Deployment { Metadata = new V1ObjectMeta(), Spec = new V1DeploymentSpec { Replicas = 3 } };
        using var patch = JsonDocument.Parse(ManifestBuilder.SleepPatch(awake)!);

        Assert.Equal(0, patch.RootElement.GetProperty("spec").GetProperty("replicas").GetInt32());
        Assert.Equal("3", patch.RootElement.GetProperty("metadata").GetProperty("annotations").GetProperty(ManifestBuilder.ReplicasBeforeSleepAnnotation).GetString());

        var asleep = new V1Deployment { Metadata = new V1ObjectMeta { Annotations = new Dictionary<string, string> { [ManifestBuilder.ReplicasBeforeSleepAnnotation] = "3" } }, Spec = new V1DeploymentSpec { Replicas = 0 } };
        Assert.Null(ManifestBuilder.SleepPatch(asleep));
    }

    [Fact]
    public void WakePatch_RestoresTheRememberedReplicas_AndRemovesTheAnnotation_OrIsNullForADeploymentAwake()
    {
        var asleep = new V1Deployment { Metadata = new V1ObjectMeta { Annotations = new Dictionary<string, string> { [ManifestBuilder.ReplicasBeforeSleepAnnotation] = "3" } }, Spec = new V1DeploymentSpec { Replicas = 0 } };
        using var patch = JsonDocument.Parse(ManifestBuilder.WakePatch(asleep)!);

        Assert.Equal(3, patch.RootElement.GetProperty("spec").GetProperty("replicas").GetInt32());
        Assert.Equal(JsonValueKind.Null, patch.RootElement.GetProperty("metadata").GetProperty("annotations").GetProperty(ManifestBuilder.ReplicasBeforeSleepAnnotation).ValueKind);

        Assert.Null(ManifestBuilder.WakePatch(new V1Deployment { Metadata = new V1ObjectMeta(), Spec = new V1DeploymentSpec { Replicas = 2 } }));
    }

    [Fact]
    public void SleepAndWake_OnAManifest_DoWhatThePatchesDo_AndReportNoChangeWhenThereIsNone()
    {
        var deployment = _builder.Build(Manifest()).Deployment;
        var replicas = deployment.Spec.Replicas;

        Assert.True(ManifestBuilder.Sleep(deployment));
        Assert.Equal(0, deployment.Spec.Replicas);
        Assert.Equal(replicas.ToString(), deployment.Metadata.Annotations[ManifestBuilder.ReplicasBeforeSleepAnnotation]);
        Assert.True(ManifestBuilder.IsAsleep(deployment));
        Assert.False(ManifestBuilder.Sleep(deployment)); // asleep already: the remembered count stays

        Assert.True(ManifestBuilder.Wake(deployment));
        Assert.Equal(replicas, deployment.Spec.Replicas);
        Assert.False(deployment.Metadata.Annotations.ContainsKey(ManifestBuilder.ReplicasBeforeSleepAnnotation));
        Assert.False(ManifestBuilder.IsAsleep(deployment));
        Assert.False(ManifestBuilder.Wake(deployment));
    }

    [Fact]
    public void Route_OnAManifest_PointsEveryPathAtTheService_KeepingHostsAndPaths_AndReportsNoChangeWhenItDoesAlready()
    {
        var ingress = _builder.Build(Manifest()).Ingress;

        Assert.True(ManifestBuilder.Route(ingress, "deployportal-wake-storefront"));

        var path = Assert.Single(Assert.Single(ingress.Spec.Rules).Http.Paths);
        Assert.Equal("storefront.qa-1.qa.example.org", ingress.Spec.Rules[0].Host);
        Assert.Equal(("/", "Prefix"), (path.Path, path.PathType));
        Assert.Equal(("deployportal-wake-storefront", 80), (path.Backend.Service.Name, path.Backend.Service.Port.Number));
        Assert.False(ManifestBuilder.Route(ingress, "deployportal-wake-storefront"));
        Assert.True(ManifestBuilder.Route(ingress, "storefront"));
        Assert.Null(ManifestBuilder.BackendPatch(ingress, "storefront"));
    }

    [Theory]
    [InlineData("storefront.qa-1.qa.example.org", "storefront", "qa-1")]
    [InlineData("Payments.QA-2.qa.example.org", "payments", "qa-2")]
    public void ParseHost_FindsTheAppAndSlot_OfAnAddressTheBuilderMakes(string host, string app, string slot)
    {
        Assert.Equal((app, slot), _builder.ParseHost(host));
        Assert.Equal(("storefront", "qa-1"), _builder.ParseHost(_builder.HostFor("storefront", "qa-1")));
    }

    [Theory]
    [InlineData("deployportal.example.org")]
    [InlineData("storefront.qa-1.qa.example.org.evil.test")]
    [InlineData("storefrontXqa-1.qa.example.org")]
    [InlineData("a.b.qa-1.qa.example.org")]
    public void ParseHost_IsNullForAnyOtherHost(string host) => Assert.Null(_builder.ParseHost(host));

    [Fact]
    public void BackendPatch_PointsEveryPathAtTheService_KeepingHostsAndPaths_AndIsNullWhenItDoesAlready()
    {
        var ingress = _builder.Build(Manifest()).Ingress;

        using var patch = JsonDocument.Parse(ManifestBuilder.BackendPatch(ingress, ManifestBuilder.WakeServiceName)!);

        var rule = patch.RootElement.GetProperty("spec").GetProperty("rules")[0];
        Assert.Equal("storefront.qa-1.qa.example.org", rule.GetProperty("host").GetString());
        var path = rule.GetProperty("http").GetProperty("paths")[0];
        Assert.Equal(("/", "Prefix"), (path.GetProperty("path").GetString(), path.GetProperty("pathType").GetString()));
        Assert.Equal(ManifestBuilder.WakeServiceName, path.GetProperty("backend").GetProperty("service").GetProperty("name").GetString());
        Assert.Null(ManifestBuilder.BackendPatch(ingress, "storefront"));
    }

    [Fact]
    public void WakeService_IsAnExternalNameToThePortal_LabelledWithTheHold()
    {
        var service = ManifestBuilder.WakeService("slot-qa-1", 7, "deployportal.portal.svc.cluster.local");

        Assert.Equal(("ExternalName", "deployportal.portal.svc.cluster.local"), (service.Spec.Type, service.Spec.ExternalName));
        Assert.Equal("7", service.Metadata.Labels[ManifestBuilder.HoldLabel]);
        Assert.Equal(ManifestBuilder.FieldManager, service.Metadata.Labels[ManifestBuilder.ManagedByLabel]);
    }
}

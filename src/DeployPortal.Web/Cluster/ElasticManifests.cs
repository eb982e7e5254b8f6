using DeployPortal.Web.Slots;
using k8s.Models;

namespace DeployPortal.Web.Cluster;

/// <summary>
/// The objects of an elastic slot's namespace: the namespace labelled as elastic, its ResourceQuota and its LimitRange,
/// from the <c>Slots:Elastic</c> template. Applied under a field manager of their own, so the deploy job's apply of the
/// namespace (which knows nothing of the elastic label) never takes the label away.
/// </summary>
internal static class ElasticManifests
{
    public const string FieldManager = ManifestBuilder.FieldManager + "-elastic";
    public const string ElasticLabel = "deployportal.io/elastic";
    public const string QuotaName = "deployportal-elastic";

    public static V1Namespace Namespace(string name) => new()
    {
        ApiVersion = "v1",
        Kind = "Namespace",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            Labels = new Dictionary<string, string> { [ManifestBuilder.ManagedByLabel] = ManifestBuilder.FieldManager, [ElasticLabel] = "true" },
        },
    };

    public static V1ResourceQuota Quota(string ns, ElasticQuota quota)
    {
        var hard = new Dictionary<string, ResourceQuantity>();
        Add(hard, "requests.cpu", quota.RequestsCpu);
        Add(hard, "requests.memory", quota.RequestsMemory);
        Add(hard, "limits.cpu", quota.LimitsCpu);
        Add(hard, "limits.memory", quota.LimitsMemory);
        Add(hard, "pods", quota.Pods?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new V1ResourceQuota
        {
            ApiVersion = "v1",
            Kind = "ResourceQuota",
            Metadata = Meta(ns),
            Spec = new V1ResourceQuotaSpec { Hard = hard },
        };
    }

    public static V1LimitRange LimitRange(string ns, ElasticLimits limits)
    {
        var max = new Dictionary<string, ResourceQuantity>();
        var request = new Dictionary<string, ResourceQuantity>();
        Add(max, "cpu", limits.DefaultCpu);
        Add(max, "memory", limits.DefaultMemory);
        Add(request, "cpu", limits.DefaultRequestCpu);
        Add(request, "memory", limits.DefaultRequestMemory);
        return new V1LimitRange
        {
            ApiVersion = "v1",
            Kind = "LimitRange",
            Metadata = Meta(ns),
            Spec = new V1LimitRangeSpec
            {
                Limits = [new V1LimitRangeItem { Type = "Container", DefaultProperty = max.Count > 0 ? max : null, DefaultRequest = request.Count > 0 ? request : null }],
            },
        };
    }

    private static V1ObjectMeta Meta(string ns) => new()
    {
        Name = QuotaName,
        NamespaceProperty = ns,
        Labels = new Dictionary<string, string> { [ManifestBuilder.ManagedByLabel] = ManifestBuilder.FieldManager, [ElasticLabel] = "true" },
    };

    private static void Add(Dictionary<string, ResourceQuantity> to, string key, string? quantity)
    {
        if (!string.IsNullOrWhiteSpace(quantity))
        {
            to[key] = new ResourceQuantity(quantity.Trim());
        }
    }
}

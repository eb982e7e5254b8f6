using System.Globalization;
using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Controllers;

/// <summary>What the Deployment controller and its status both read about a rollout: the ReplicaSets, their revisions, maxSurge and maxUnavailable.</summary>
internal static class Rollout
{
    public static List<StoredObject> ReplicaSetsOf(ObjectStore store, StoredObject d) =>
        store.List(ResourceKind.ReplicaSet, d.Namespace, rs => ClusterController.OwnerUid(rs, "Deployment") == d.Uid).Items;

    public static int Revision(StoredObject rs) =>
        int.TryParse(Json.Str(rs.Node, "metadata", "annotations", "deployment.kubernetes.io/revision"), CultureInfo.InvariantCulture, out var r) ? r : 0;

    private static int Scaled(JsonNode? value, int replicas, bool roundUp)
    {
        if (value is JsonValue v && v.TryGetValue<int>(out var i))
        {
            return i;
        }

        var s = value?.ToString() ?? "25%";
        if (s.EndsWith('%') && double.TryParse(s[..^1], CultureInfo.InvariantCulture, out var pct))
        {
            return (int)(roundUp ? Math.Ceiling(replicas * pct / 100) : Math.Floor(replicas * pct / 100));
        }

        return int.TryParse(s, CultureInfo.InvariantCulture, out i) ? i : 0;
    }

    public static (int Surge, int Unavailable) Limits(StoredObject d, int desired)
    {
        var ru = d.Node["spec"]?["strategy"]?["rollingUpdate"];
        var surge = Scaled(ru?["maxSurge"], desired, roundUp: true);
        var unavailable = Scaled(ru?["maxUnavailable"], desired, roundUp: false);
        if (surge == 0 && unavailable == 0)
        {
            unavailable = 1;
        }

        return (surge, unavailable);
    }
}

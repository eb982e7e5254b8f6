using System.Text.RegularExpressions;
using DeployPortal.Web.Common;
using k8s.Models;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Bound from <c>Slots:Elastic</c>: the pool of slots the portal makes on demand when every slot is held, each in a
/// namespace of its own with a ResourceQuota and a LimitRange from <see cref="Quota"/> and <see cref="Limits"/>.
/// </summary>
internal sealed partial class ElasticOptions
{
    public const string Section = "Slots:Elastic";

    /// <summary>Off by default: making namespaces needs cluster-wide rights, which the Helm chart grants only with <c>elasticSlots.enabled</c> (docs/operations.md).</summary>
    public bool Enabled { get; set; }

    /// <summary>The most elastic slots at once (the budget in slots). An admin may override it on the slots page.</summary>
    public int MaxSlots { get; set; } = 2;

    /// <summary>Optional: the most CPU all elastic slots may request together, counted from <see cref="ElasticQuota.RequestsCpu"/> per slot (e.g. <c>8</c>).</summary>
    public string? MaxCpu { get; set; }

    /// <summary>Optional: the most memory all elastic slots may request together, counted from <see cref="ElasticQuota.RequestsMemory"/> per slot (e.g. <c>16Gi</c>).</summary>
    public string? MaxMemory { get; set; }

    /// <summary>Elastic slots are named (and their namespaces too) this prefix and a number: <c>qa-e1</c>, <c>qa-e2</c>, …</summary>
    public string NamePrefix { get; set; } = "qa-e";

    /// <summary>How long a released elastic slot stands free before its namespace is deleted; a claim before then keeps it.</summary>
    public TimeSpan RemoveAfter { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The board's description of an elastic slot.</summary>
    public string Description { get; set; } = "Made on demand from the elastic pool; removed when it has stood free a while.";

    /// <summary>Public address pattern given to elastic slots (see <see cref="Data.Slot.UrlPattern"/>).</summary>
    public string UrlPattern { get; set; } = "";

    public ElasticQuota Quota { get; set; } = new();

    public ElasticLimits Limits { get; set; } = new();

    internal static decimal? Amount(string? quantity)
    {
        if (string.IsNullOrWhiteSpace(quantity))
        {
            return null;
        }

        try
        {
            return new ResourceQuantity(quantity.Trim()).ToDecimal();
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            return -1;
        }
    }

    internal static bool IsQuantity(string? quantity) => quantity is null || Amount(quantity) >= 0;

    [GeneratedRegex("^[a-z]([-a-z0-9]{0,40})?$")]
    internal static partial Regex PrefixPattern();
}

/// <summary>The ResourceQuota of each elastic slot's namespace (Kubernetes quantities; unset entries are left out).</summary>
internal sealed class ElasticQuota
{
    public string? RequestsCpu { get; set; } = "2";
    public string? RequestsMemory { get; set; } = "4Gi";
    public string? LimitsCpu { get; set; } = "4";
    public string? LimitsMemory { get; set; } = "8Gi";
    public int? Pods { get; set; } = 20;
}

/// <summary>The LimitRange of each elastic slot's namespace: what a container gets when its manifest asks for nothing.</summary>
internal sealed class ElasticLimits
{
    public string? DefaultCpu { get; set; } = "500m";
    public string? DefaultMemory { get; set; } = "512Mi";
    public string? DefaultRequestCpu { get; set; } = "100m";
    public string? DefaultRequestMemory { get; set; } = "128Mi";
}

internal sealed class ElasticOptionsValidator : IValidateOptions<ElasticOptions>
{
    public ValidateOptionsResult Validate(string? name, ElasticOptions o) => new OptionRules(ElasticOptions.Section)
        .NotNegative(nameof(o.MaxSlots), o.MaxSlots)
        .Positive(nameof(o.RemoveAfter), o.RemoveAfter)
        .Check(ElasticOptions.PrefixPattern().IsMatch(o.NamePrefix ?? ""),
            "Slots:Elastic:NamePrefix must be 1–41 lower-case letters, digits or '-', starting with a letter (a number is added to it).")
        .Check(ElasticOptions.IsQuantity(o.MaxCpu), "Slots:Elastic:MaxCpu must be a Kubernetes quantity, e.g. 8 or 7500m.")
        .Check(ElasticOptions.IsQuantity(o.MaxMemory), "Slots:Elastic:MaxMemory must be a Kubernetes quantity, e.g. 16Gi.")
        .Check(o.MaxCpu is null || ElasticOptions.Amount(o.Quota.RequestsCpu) > 0, "Slots:Elastic:MaxCpu needs Slots:Elastic:Quota:RequestsCpu (what one slot counts).")
        .Check(o.MaxMemory is null || ElasticOptions.Amount(o.Quota.RequestsMemory) > 0, "Slots:Elastic:MaxMemory needs Slots:Elastic:Quota:RequestsMemory (what one slot counts).")
        .Check(new[] { o.Quota.RequestsCpu, o.Quota.RequestsMemory, o.Quota.LimitsCpu, o.Quota.LimitsMemory }.All(ElasticOptions.IsQuantity),
            "Every Slots:Elastic:Quota value must be a Kubernetes quantity, e.g. 2 or 4Gi.")
        .Check(new[] { o.Limits.DefaultCpu, o.Limits.DefaultMemory, o.Limits.DefaultRequestCpu, o.Limits.DefaultRequestMemory }.All(ElasticOptions.IsQuantity),
            "Every Slots:Elastic:Limits value must be a Kubernetes quantity, e.g. 500m or 512Mi.")
        .Positive(nameof(o.Quota) + ":" + nameof(o.Quota.Pods), o.Quota.Pods)
        .Result();
}

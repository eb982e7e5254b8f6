namespace DeployPortal.Web.Audit;

/// <summary>The action names written to the audit log.</summary>
public static class AuditActions
{
    public const string Claim = "claim";
    public const string Extend = "extend";
    public const string Release = "release";
    public const string QaDone = "qa-done";
    public const string ForceRelease = "force-release";
    public const string Expire = "expire";
    public const string Deploy = "deploy";
    public const string Cancel = "cancel";
    public const string SlotAdded = "slot-added";
    public const string SlotEdited = "slot-edited";
    public const string SlotEnabled = "slot-enabled";
    public const string SlotDisabled = "slot-disabled";
}

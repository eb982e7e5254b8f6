using DeployPortal.Web.Common;

namespace DeployPortal.Web.Deployments;

/// <summary>The deploy form's "what will happen" sentence, so nobody ships the wrong branch into the wrong slot.</summary>
public static class Preflight
{
    /// <param name="purpose">What the claim is for, shown as the board will show it (and, while typed, proof the form has it).</param>
    public static string Describe(string app, string branch, SlotChoice slot, string actorId, TimeSpan holdFor, string? purpose = null)
    {
        var target = $"Deploys {app}@{branch} into {slot.Name}";
        var running = slot.Running.FirstOrDefault(r => r.StartsWith(app + "@", StringComparison.Ordinal));
        var replaces = running is null ? "" : running == $"{app}@{branch}" ? $", redeploying {running} with its latest commit" : $", replacing {running}";
        var hold = slot.HolderId switch
        {
            null => $"; claims {slot.Name} for {TimeText.Duration(holdFor)}" + (string.IsNullOrWhiteSpace(purpose) ? "" : $" ({purpose.Trim()})"),
            var id when id == actorId => "",
            _ => $"; {slot.Name} is held by {slot.HolderName} ({slot.Purpose})",
        };
        return target + replaces + hold + ".";
    }
}

using DeployPortal.Web.Common;

namespace DeployPortal.Web.Components.Shared;

/// <summary>How a deployment that waits for its image is described on the board and the deployment page.</summary>
public static class ImageWaitText
{
    /// <summary>"waiting for image registry.example.com/shop/storefront:feature-login — checked 2 min ago, gives up at 15:40".</summary>
    public static string Sentence(string? image, DateTime? checkedAt, DateTime? until, TimeZoneInfo? zone, DateTime now) =>
        $"waiting for image {image}"
        + (checkedAt is { } at ? $" — checked {TimeText.Relative(at, now)}" : "")
        + (until is { } end ? $", gives up at {LocalTime.Format(end, zone, now).Short}" : "");
}

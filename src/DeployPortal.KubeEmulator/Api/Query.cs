namespace DeployPortal.KubeEmulator.Api;

/// <summary>Query-string values as the API server reads them.</summary>
internal static class Query
{
    /// <summary>A boolean flag such as <c>watch=true</c> or <c>follow=1</c>.</summary>
    public static bool IsTrue(string? value) => value is "true" or "1" or "True";
}

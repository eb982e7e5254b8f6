namespace DeployPortal.Web.Auth;

/// <summary>What the access-denied page says a refused address is, and who may use it.</summary>
public static class AccessRules
{
    public static string Describe(string? returnUrl)
    {
        var path = AccountEndpoints.SafeReturnUrl(returnUrl).Split('?', '#')[0];
        return path switch
        {
            _ when path.StartsWith("/jobs", StringComparison.OrdinalIgnoreCase) => "the background-jobs dashboard is for admins",
            _ when path.StartsWith("/apps", StringComparison.OrdinalIgnoreCase) => "managing apps is for admins",
            _ => $"{path} is not open to your role",
        };
    }
}

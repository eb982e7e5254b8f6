using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>One Chromium for every browser test class of this assembly (xunit collection fixtures are per assembly).</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}

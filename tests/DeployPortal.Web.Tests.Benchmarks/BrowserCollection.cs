using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>One Chromium for the browser benchmarks (xunit collection fixtures are per assembly).</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}

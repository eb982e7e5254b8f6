using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Tests.Slots;

/// <summary>The idle settings as an operator writes them: a portal with a wrong one refuses to start, saying which.</summary>
public sealed class IdleSettingsTests
{
    [Theory]
    [InlineData("-01:00:00", null)]
    [InlineData("-01:00:00", "01:00:00")]
    [InlineData("02:00:00", "-00:30:00")]
    public void Portal_WithANegativeIdleSetting_RefusesToStart(string after, string? releaseAfter)
    {
        using var host = new PortalHost(settings: new Dictionary<string, string?> { ["Idle:After"] = after, ["Idle:ReleaseAfter"] = releaseAfter });

        var error = Assert.ThrowsAny<Exception>(() => host.Start());

        // Start-up validation: one failed setting, or several (an AggregateException of them).
        var failures = error is AggregateException many ? many.InnerExceptions : [error.InnerException is OptionsValidationException inner ? inner : error];
        Assert.True(failures.Any(f => f is OptionsValidationException && f.Message.Contains("must be positive.")), error.ToString());
    }
}

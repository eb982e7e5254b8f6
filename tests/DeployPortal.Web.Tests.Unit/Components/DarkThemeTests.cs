using Bunit;
using DeployPortal.Web.Components.Layout;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace DeployPortal.Web.Tests.Components;

/// <summary>The dark palette's variables, as the page gets them: MudBlazor's own, under the two dark selectors only.</summary>
public sealed class DarkThemeTests : BunitContext
{
    public DarkThemeTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    [Fact]
    public void DarkVariables_ApplyWhenChosen_OrWhenTheSystemPrefersDarkAndLightWasNotChosen_NeverAtRoot()
    {
        var markup = Render<DarkThemeVariables>(p => p.Add(x => x.Theme, PortalTheme.Theme).Add(x => x.IsDarkMode, true)).Markup;

        Assert.Matches(@"^<style>\s*html\[data-theme=dark\]\{", markup); // a rule the browser parses, nothing before it
        Assert.Contains("@media (prefers-color-scheme: dark) {", markup);
        Assert.Contains("html:not([data-theme=light])", markup);
        Assert.DoesNotContain(":root", markup);
        Assert.Contains($"--mud-palette-primary: {PortalTheme.Theme.PaletteDark.Primary}", markup, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"--mud-palette-background: {PortalTheme.Theme.PaletteDark.Background}", markup, StringComparison.OrdinalIgnoreCase);
    }
}

using Microsoft.Playwright;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// Screenshots for the README and docs/, taken by browser tests so they show the portal as it is. Always written to
/// <see cref="BrowserFixture.ScreenshotFolder"/>; with <c>DEPLOYPORTAL_WRITE_SCREENSHOTS=1</c> also to the
/// repository's <c>docs/images/</c>, to be committed (docs/testing.md says how to refresh them).
/// </summary>
public static class DocsImages
{
    public const string Switch = "DEPLOYPORTAL_WRITE_SCREENSHOTS";

    public static bool Writing => Environment.GetEnvironmentVariable(Switch) == "1";

    /// <summary>The repository's docs/images folder, found from the test binaries upwards.</summary>
    public static string Folder
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DeployPortal.sln")))
            {
                dir = dir.Parent;
            }

            return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("No DeployPortal.sln above the test binaries"), "docs", "images");
        }
    }

    /// <summary>The visible part of the page (not the full page: small files, the view a person gets).</summary>
    public static async Task SaveAsync(IPage page, string name)
    {
        var bytes = await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"docs-{name}.png") });
        if (Writing)
        {
            Directory.CreateDirectory(Folder);
            await File.WriteAllBytesAsync(Path.Combine(Folder, $"{name}.png"), bytes);
        }
    }
}

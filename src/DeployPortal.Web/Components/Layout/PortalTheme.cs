using MudBlazor;

namespace DeployPortal.Web.Components.Layout;

internal static class PortalTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1f4e79",
            Secondary = "#00897b",
            AppbarBackground = "#1f4e79",
            AppbarText = "#ffffff",
            Success = "#2e7d32",
            Warning = "#ed6c02",
            Error = "#c62828",
        },
        // For readers who chose dark or whose system prefers it (DarkThemeVariables): lighter accents on MudBlazor's dark surfaces.
        PaletteDark = new PaletteDark
        {
            Primary = "#7cb1e3",
            PrimaryContrastText = "#0b1f33", // dark text on the light-blue primary (filled buttons, the chosen filter)
            Secondary = "#4db6ac",
            AppbarBackground = "#16324d", // a dark blue: the light-blue primary behind white text was hard to read
            AppbarText = "#ffffff",
            Success = "#66bb6a",
            Warning = "#ffa726",
            Error = "#ef5350",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"] },
        },
    };
}

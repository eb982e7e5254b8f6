namespace DeployPortal.Web.Components.Pages.Board;

public static class BoardExtensions
{
    /// <summary>The board page's own services: its feed (one for the portal) and its buttons' commands (one per circuit).</summary>
    public static IServiceCollection AddBoard(this IServiceCollection services)
    {
        services.AddSingleton<BoardFeed>();
        services.AddScoped<BoardCommands>();
        return services;
    }
}

namespace DeployPortal.Web.Logs;

public static class LogsExtensions
{
    public static WebApplicationBuilder AddLogs(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<LogOptions, LogOptionsValidator>().BindConfiguration(LogOptions.Section);
        builder.Services.AddSingleton<PodLogHub>();
        builder.Services.AddSingleton<IPodLogSource>(sp => sp.GetRequiredService<PodLogHub>());
        return builder;
    }
}

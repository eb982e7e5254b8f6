namespace DeployPortal.Web.Logs;

public static class LogsExtensions
{
    public static WebApplicationBuilder AddLogs(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<LogOptions>().BindConfiguration(LogOptions.Section)
            .Validate(o => o.BufferLines > 0 && o.SubscriberQueue > 0, "Logs:BufferLines and Logs:SubscriberQueue must be positive.")
            .Validate(o => o.ReconnectDelay > TimeSpan.Zero && o.MaxReconnectDelay < TimeSpan.FromSeconds(5), "Logs:MaxReconnectDelay must stay under 5 s.")
            .ValidateOnStart();
        builder.Services.AddSingleton<PodLogHub>();
        builder.Services.AddSingleton<IPodLogSource>(sp => sp.GetRequiredService<PodLogHub>());
        return builder;
    }
}

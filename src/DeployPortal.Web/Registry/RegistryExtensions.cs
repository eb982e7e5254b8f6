using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace DeployPortal.Web.Registry;

public static class RegistryExtensions
{
    /// <summary>
    /// The registry client (OCI Distribution API, anonymous / Basic / Bearer token), its credentials and the cached
    /// image check. Every HTTP attempt is bounded by <c>Registry:AttemptTimeout</c> and retried (Polly) within
    /// <c>Registry:Timeout</c>, so a slow registry costs a page at most that long, and only where it asked.
    /// </summary>
    public static WebApplicationBuilder AddRegistry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<RegistryOptions, RegistryOptionsValidator>().BindConfiguration(RegistryOptions.Section);
        builder.Services.AddMemoryCache();
        builder.Services.AddSingleton<RegistryCredentials>();
        builder.Services.AddSingleton<RegistryTokens>();
        builder.Services.AddSingleton<RegistryClient>();
        builder.Services.AddSingleton<ImageCheck>();
        builder.Services.AddSingleton<ImagePreflight>();
        builder.Services.AddScoped<ImageWait>();
        builder.Services.AddHostedService<ImageWaitWatch>();
        builder.Services.AddTransient<RegistryAuthHandler>();

        var registry = builder.Services.AddHttpClient(RegistryClient.HttpClientName, ConfigureClient);
        registry.AddResilienceHandler("registry", AddAttempts);
        registry.AddHttpMessageHandler<RegistryAuthHandler>(); // inside the retries: every attempt answers its own 401
        builder.Services.AddHttpClient(RegistryTokens.HttpClientName, ConfigureClient)
            .AddResilienceHandler("registry-token", AddAttempts);
        return builder;
    }

    private static void ConfigureClient(HttpClient client)
    {
        client.Timeout = Timeout.InfiniteTimeSpan; // the pipeline bounds each attempt, the client the whole lookup
        client.DefaultRequestHeaders.UserAgent.ParseAdd("DeployPortal-Registry/1");
    }

    private static void AddAttempts(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceHandlerContext context)
    {
        var o = context.ServiceProvider.GetRequiredService<IOptions<RegistryOptions>>().Value;
        // Timeouts and retry delays are about the wire, so they run on the wall clock whatever clock the portal's rules
        // use (a test's fake clock moved by minutes must not time out a request in flight).
        pipeline.TimeProvider = TimeProvider.System;
        if (o.Retries > 0)
        {
            // Retries 5xx, 408, 429, refused connections and attempt timeouts; never 401/404, which are answers.
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = o.Retries,
                Delay = TimeSpan.FromMilliseconds(200),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            });
        }

        pipeline.AddTimeout(o.AttemptTimeout);
    }
}

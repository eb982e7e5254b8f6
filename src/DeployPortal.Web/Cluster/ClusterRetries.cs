using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace DeployPortal.Web.Cluster;

/// <summary>A transient failure of a cluster call that is about to be tried again: attempt <paramref name="Attempt"/> of <paramref name="Of"/>.</summary>
internal sealed record ClusterRetry(int Attempt, int Of, string Reason)
{
    public override string ToString() => $"retrying ({Attempt} of {Of}): {Reason}";
}

/// <summary>
/// How the gateway makes one cluster call: transient failures (5xx, 429, dropped connections, hanging requests)
/// are retried with exponential backoff and reported to whoever observes retries in the caller's async flow;
/// permanent refusals surface at once as <see cref="ClusterRejectedException"/> with the API server's own message.
/// </summary>
internal sealed class ClusterRetries
{
    private static readonly AsyncLocal<Func<ClusterRetry, Task>?> RetryObserver = new();

    private readonly ResiliencePipeline _pipeline;

    public ClusterRetries(ClusterOptions options, ILogger logger)
    {
        _pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<TimeoutRejectedException>().Handle<IOException>()
                    .Handle<HttpOperationException>(e => IsTransient(e.Response.StatusCode)),
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = async args =>
                {
                    logger.LogWarning("Cluster call failed transiently ({Reason}); retry {Attempt} in {Delay}",
                        Describe(args.Outcome.Exception, options.RequestTimeout), args.AttemptNumber + 1, args.RetryDelay);
                    if (RetryObserver.Value is { } observe)
                    {
                        try
                        {
                            await observe(new ClusterRetry(args.AttemptNumber + 2, options.MaxRetries + 1, Describe(args.Outcome.Exception, options.RequestTimeout)));
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException)
                        {
                            logger.LogWarning("Could not report a cluster retry: {Reason}", ex.Message);
                        }
                    }
                },
            })
            .AddTimeout(options.RequestTimeout)
            .Build();
    }

    /// <summary>
    /// Until disposed, every retry of a cluster call made from the caller's async flow is reported to
    /// <paramref name="onRetry"/> (before the back-off), so a deployment step can show it while it waits.
    /// </summary>
    public static IDisposable Observe(Func<ClusterRetry, Task> onRetry)
    {
        var previous = RetryObserver.Value;
        RetryObserver.Value = onRetry;
        return new RestoreObserver(previous);
    }

    /// <summary>One call, retried while it fails transiently; each attempt gets its own timeout token.</summary>
    public async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await _pipeline.ExecuteAsync(async t => await call(t), ct);
        }
        catch (HttpOperationException e) when (!IsTransient(e.Response.StatusCode))
        {
            throw Rejected(e);
        }
    }

    public static bool IsTransient(HttpStatusCode code) => code is HttpStatusCode.TooManyRequests || (int)code >= 500;

    /// <summary>What a cluster call throws when the cluster refused it or could not be reached, even after the retries.</summary>
    public static bool IsClusterFailure(Exception ex) => ex is ClusterRejectedException or TimeoutRejectedException || IsDroppedStream(ex);

    /// <summary>What a watch or a long read throws when the connection to the API server drops mid-stream.</summary>
    public static bool IsDroppedStream(Exception ex) => ex is HttpRequestException or IOException or HttpOperationException or KubernetesException;

    /// <summary>The API server's refusal in its own words, with its status code.</summary>
    public static ClusterRejectedException Rejected(HttpOperationException e) => new(ReadStatusMessage(e), e) { StatusCode = e.Response.StatusCode };

    private static string ReadStatusMessage(HttpOperationException e)
    {
        try
        {
            var status = KubernetesJson.Deserialize<V1Status>(e.Response.Content);
            return $"The cluster refused: {status.Message} ({(int)e.Response.StatusCode} {status.Reason}).";
        }
        catch (Exception)
        {
            return $"The cluster refused the request ({(int)e.Response.StatusCode}).";
        }
    }

    private static string Describe(Exception? error, TimeSpan timeout) => error switch
    {
        HttpOperationException e => $"the cluster answered {(int)e.Response.StatusCode}",
        TimeoutRejectedException => $"the cluster did not answer within {timeout.TotalSeconds:0.#} s",
        null => "the cluster call failed",
        _ => $"the cluster could not be reached ({error.Message})",
    };

    private sealed class RestoreObserver(Func<ClusterRetry, Task>? previous) : IDisposable
    {
        public void Dispose() => RetryObserver.Value = previous;
    }
}

using System.Diagnostics;
using Hangfire.Client;
using Hangfire.Server;

namespace DeployPortal.Web.Telemetry;

/// <summary>
/// Carries the trace of the click or API call that queued a job into the job: the W3C <c>traceparent</c> is kept as a
/// job parameter when the job is created, and the job runs inside a span that continues that trace, so each Kubernetes
/// call it makes (KubernetesClient over HttpClient) shows up under the request that asked for it. Stateless, because
/// Hangfire keeps filters in a process-wide static.
/// </summary>
internal sealed class JobTracing : IClientFilter, IServerFilter
{
    public static readonly JobTracing Instance = new();

    private const string TraceParent = "traceparent";
    private const string SpanKey = "deployportal-span";

    private JobTracing()
    {
    }

    public void OnCreating(CreatingContext context)
    {
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } current)
        {
            context.SetJobParameter(TraceParent, current.Id);
        }
    }

    public void OnCreated(CreatedContext context)
    {
    }

    public void OnPerforming(PerformingContext context)
    {
        var job = context.BackgroundJob.Job;
        ActivityContext.TryParse(context.GetJobParameter<string>(TraceParent), null, out var parent);
        var span = PortalTelemetry.Source.StartActivity($"job {job.Type.Name}.{job.Method.Name}", ActivityKind.Consumer, parent);
        span?.SetTag("messaging.system", "hangfire");
        span?.SetTag("messaging.message.id", context.BackgroundJob.Id);
        context.Items[SpanKey] = span;
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Items.TryGetValue(SpanKey, out var value) && value is Activity span)
        {
            if (context.Exception is { } error && !context.ExceptionHandled)
            {
                span.SetStatus(ActivityStatusCode.Error, error.GetBaseException().Message);
            }

            span.Dispose();
        }
    }
}

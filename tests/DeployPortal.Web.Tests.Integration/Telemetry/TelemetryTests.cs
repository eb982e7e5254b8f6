using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace DeployPortal.Web.Tests.Telemetry;

/// <summary>
/// What an operator sees in their tracing and metrics tools: one trace from a CI pipeline's API call through the
/// Hangfire job to each call to the cluster (the real KubernetesClient against the emulator), the standard HTTP, runtime
/// and Hangfire series on /metrics, and OTLP export when the standard OTEL_* settings say where.
/// </summary>
public sealed class TelemetryTests : IAsyncLifetime
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private readonly ConcurrentQueue<Activity> _spans = new();
    private DeployHarness _h = default!;
    private PortalHost _host = default!;

    public async Task InitializeAsync()
    {
        _h = await DeployHarness.CreateAsync(startHost: false);
        _host = _h.StartHost(services: s => s.ConfigureOpenTelemetryTracerProvider(t => t.AddProcessor(new Collect(_spans))));
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task ADeployByApi_IsOneTrace_FromTheRequestThroughTheJobToEachClusterCall()
    {
        using var ci = await TokenClientAsync();
        // A CI runner with tracing: its step's span is the parent, sent along as traceparent.
        using var pipeline = new Activity("ci deploy step").SetIdFormat(ActivityIdFormat.W3C);
        pipeline.ActivityTraceFlags = ActivityTraceFlags.Recorded; // the runner sampled it: so does the portal
        pipeline.Start();
        var traceId = pipeline.TraceId;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/deployments")
        {
            Content = JsonContent.Create(new { app = "payments", branch = "feature/login", slot = "qa-1", purpose = "traced" }),
        };

        var response = await ci.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var queued = (await response.Content.ReadFromJsonAsync<DeploymentView>(Json))!;
        Assert.Equal(Web.Data.DeploymentState.Succeeded, (await _h.WaitFinishedAsync(queued.Id)).State);

        // The job's span ends just after the deployment row says Succeeded.
        var job = await WaitForSpanAsync(s => s.TraceId == traceId && s.DisplayName.StartsWith("job DeploymentJob.", StringComparison.Ordinal));
        var trace = _spans.Where(s => s.TraceId == traceId).ToList();
        Assert.Contains(trace, s => s.Kind == ActivityKind.Server && s.DisplayName.StartsWith("POST /api/v1/deployments", StringComparison.Ordinal));
        Assert.Equal(ActivityKind.Consumer, job.Kind);
        var clusterCalls = trace.Where(s => s.Kind == ActivityKind.Client && IsUnder(s, job)).ToList();
        Assert.Contains(clusterCalls, s => ((string?)s.GetTagItem("url.full"))?.Contains("/apis/apps/v1/namespaces/", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Metrics_CarryTheStandardHttpRuntimeAndHangfireSeries_BesideThePortalsOwn()
    {
        using var client = _host.CreateLoopbackClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/apps")).StatusCode); // any request will do

        var text = await client.GetStringAsync("/metrics");

        var families = text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToList();
        Assert.Contains("deployportal_slots_enabled", families);
        Assert.Contains("microsoft_aspnetcore_hosting_http_server_request_duration", families);
        Assert.Contains("system_runtime_dotnet_gc_collections", families);
        Assert.Contains("deployportal_jobs_hangfire_jobs{state=\"enqueued\"}", text);
    }

    [Fact]
    public async Task WithAnOtlpEndpoint_TracesAndMetricsAreExported_OverOtlpHttp()
    {
        var received = new ConcurrentQueue<(string Path, string? ContentType)>();
        await using var collector = await OtlpReceiverAsync(received);
        var settings = _h.Settings();
        settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Urls.Single();
        settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        settings["OTEL_BSP_SCHEDULE_DELAY"] = "100";
        settings["OTEL_METRIC_EXPORT_INTERVAL"] = "200";
        await using var exporting = new PortalHost(_h.Database, settings: settings);
        exporting.Start();
        using var client = exporting.CreateLoopbackClient();
        await client.GetAsync("/signin");

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!(received.Any(r => r.Path == "/v1/traces") && received.Any(r => r.Path == "/v1/metrics")) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50); // polling what arrives, not waiting for a state
        }

        Assert.Contains(received, r => r.Path == "/v1/traces" && r.ContentType == "application/x-protobuf");
        Assert.Contains(received, r => r.Path == "/v1/metrics" && r.ContentType == "application/x-protobuf");
    }

    private static bool IsUnder(Activity span, Activity ancestor)
    {
        for (var parent = span.ParentSpanId; ;)
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }

            if (span.Parent is not { } up)
            {
                return false;
            }

            span = up;
            parent = span.ParentSpanId;
        }
    }

    private async Task<Activity> WaitForSpanAsync(Func<Activity, bool> match)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (_spans.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            await Task.Delay(20);
        }

        throw new Xunit.Sdk.XunitException("No such span was recorded: " + string.Join(", ", _spans.Select(s => $"{s.DisplayName} {s.TraceId}/{s.ParentSpanId}").Distinct()));
    }

    private Task<HttpClient> TokenClientAsync() => _host.TokenClientAsync(TestUsers.Dana);

    /// <summary>A loopback OTLP/HTTP endpoint that records what the exporter posts (the payload is the exporter's business).</summary>
    private static async Task<WebApplication> OtlpReceiverAsync(ConcurrentQueue<(string, string?)> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/v1/{signal}", (HttpRequest request) =>
        {
            received.Enqueue((request.Path.Value!, request.ContentType));
            return Results.Ok();
        });
        await app.StartAsync();
        return app;
    }

    private sealed class Collect(ConcurrentQueue<Activity> spans) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data) => spans.Enqueue(data);
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>A request a <see cref="WebhookReceiver"/> got: its headers and exact body bytes.</summary>
public sealed record ReceivedWebhook(int Number, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// A real HTTP server on a free loopback port that webhooks are sent to. <see cref="Respond"/> decides each
/// answer (by request number, from 1): a status code, or <see cref="Hang"/> to never answer until the
/// receiver is disposed.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public const int Hang = -1;

    private readonly WebApplication _app;
    private readonly Channel<ReceivedWebhook> _received = Channel.CreateUnbounded<ReceivedWebhook>();
    private readonly CancellationTokenSource _stopping = new();
    private int _count;
    private int _hanging;

    private WebhookReceiver(WebApplication app) => _app = app;

    public Func<int, int> Respond { get; set; } = _ => 200;

    public Uri Url { get; private set; } = default!;

    /// <summary>Every request so far, in arrival order.</summary>
    public ConcurrentQueue<ReceivedWebhook> All { get; } = new();

    public int Count => Volatile.Read(ref _count);

    /// <summary>Requests being held open by <see cref="Hang"/> right now.</summary>
    public int Hanging => Volatile.Read(ref _hanging);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(new Uri(address), "/hook");
        return receiver;
    }

    /// <summary>The next request (waits for it, up to <paramref name="timeout"/>).</summary>
    public async Task<ReceivedWebhook> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            return await _received.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No webhook arrived at {Url} in time ({Count} so far).");
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var number = Interlocked.Increment(ref _count);
        var request = new ReceivedWebhook(number, context.Request.Path, context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body.ToArray());
        var status = Respond(number);
        if (status == Hang)
        {
            // Counted before the test hears of the request, so a test that has received it sees it hanging.
            Interlocked.Increment(ref _hanging);
        }

        All.Enqueue(request);
        _received.Writer.TryWrite(request);
        if (status == Hang)
        {
            // Never answer; the sender must give up on its own. Ends when the sender aborts or the receiver stops.
            using var either = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            await Task.Delay(Timeout.Infinite, either.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            Interlocked.Decrement(ref _hanging);
            return;
        }

        context.Response.StatusCode = status;
        await context.Response.WriteAsync(status < 300 ? "ok" : "nope");
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}

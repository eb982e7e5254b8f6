using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DeployPortal.LoadGen;

/// <summary>
/// One Blazor Server circuit, opened the way blazor.web.js (.NET 10) opens one: GET the page, read the
/// prerendered component markers and persisted state from it, connect to <c>/_blazor</c> with the
/// <c>blazorpack</c> (MessagePack) hub protocol, <c>StartCircuit</c> with no initial components, then
/// <c>UpdateRootComponents</c> with one "add" operation per marker. It acknowledges every render batch
/// (the server stops rendering after 10 unacknowledged ones) and answers every JS interop call so
/// components that await JavaScript (MudBlazor, the layout's time-zone module) carry on. It keeps no DOM:
/// a render batch is only searched for the strings the benchmark waits for.
/// </summary>
internal sealed partial class BlazorCircuit : IAsyncDisposable
{
    private readonly Uri _baseUri;
    private readonly CookieContainer _cookies;
    private readonly CircuitEvents _events;
    private readonly int _index;
    private HubConnection? _connection;
    private HttpClient? _http;
    private int _nextJsObjectId = 1;
    private volatile byte[]? _watched;
    private long _watchedSeenAt;

    public BlazorCircuit(int index, Uri baseUri, CookieContainer cookies, CircuitEvents events)
    {
        _index = index;
        _baseUri = baseUri;
        _cookies = cookies;
        _events = events;
    }

    public string? CircuitId { get; private set; }

    /// <summary>Monotonic timestamp (<see cref="Stopwatch.GetTimestamp"/>) of the first interactive render.</summary>
    public long InteractiveAt { get; private set; }

    public string? Error { get; private set; }

    private TaskCompletionSource Interactive { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Opens the circuit and waits for its first interactive render (the layout's <c>interactive</c> marker).</summary>
    public async Task OpenAsync(HttpClient http, TimeSpan timeout, CancellationToken ct)
    {
        _http = http;
        var html = await http.GetStringAsync(_baseUri, ct);
        var markers = ServerMarkers(html);
        if (markers.Count == 0)
        {
            throw new InvalidOperationException("The page has no interactive server component markers (signed out, or not an interactive page).");
        }

        var state = PersistedState().Match(html) is { Success: true } m ? m.Groups[1].Value : "";

        _connection = new HubConnectionBuilder()
            .WithUrl(new Uri(_baseUri, "_blazor"), o =>
            {
                o.Cookies = _cookies;
                o.Transports = HttpTransportType.WebSockets;
                // Straight to the WebSocket. The negotiate request would leave an idle keep-alive connection per
                // circuit on the server (each HubConnection has its own HttpClient), which a browser's shared
                // connection pool does not: the benchmark would count it as memory per circuit.
                o.SkipNegotiation = true;
            })
            .AddBlazorPackProtocol()
            .Build();
        // The page, not the client, decides when to give up on a busy server.
        _connection.ServerTimeout = TimeSpan.FromMinutes(5);
        _connection.HandshakeTimeout = TimeSpan.FromMinutes(2);

        _connection.On<long, byte[]>("JS.RenderBatch", OnRenderBatchAsync);
        _connection.On("JS.BeginInvokeJS", [typeof(long), typeof(string), typeof(string), typeof(int), typeof(long), typeof(int)], OnBeginInvokeJSAsync);
        _connection.On<string>("JS.Error", error =>
        {
            Error ??= "server: " + error;
            Interactive.TrySetException(new InvalidOperationException("The circuit failed on the server: " + error));
        });
        _connection.On("JS.AttachComponent", [typeof(int), typeof(string)], _ => Task.CompletedTask);
        _connection.On("JS.EndInvokeDotNet", [typeof(string), typeof(bool), typeof(string)], _ => Task.CompletedTask);
        _connection.On("JS.EndUpdateRootComponents", [typeof(long)], _ => Task.CompletedTask);
        _connection.On("JS.EndLocationChanging", [typeof(int), typeof(bool)], _ => Task.CompletedTask);
        _connection.Closed += ex =>
        {
            Error ??= "connection closed" + (ex is null ? "" : ": " + ex.Message);
            Interactive.TrySetException(new InvalidOperationException(Error));
            _events.Closed(this);
            return Task.CompletedTask;
        };

        await _connection.StartAsync(ct);
        CircuitId = await _connection.InvokeAsync<string?>("StartCircuit", _baseUri.ToString(), _baseUri.ToString(), "[]", state, ct);
        if (CircuitId is null)
        {
            throw new InvalidOperationException("StartCircuit returned no circuit id (the server refused the circuit; see its log).");
        }

        var operations = new JsonArray();
        for (var i = 0; i < markers.Count; i++)
        {
            var marker = markers[i];
            marker["uniqueId"] = i;
            operations.Add(new JsonObject { ["type"] = "add", ["ssrComponentId"] = i + 1, ["marker"] = marker });
        }

        var batch = new JsonObject { ["batchId"] = 1, ["operations"] = operations };
        await _connection.SendAsync("UpdateRootComponents", batch.ToJsonString(), state, ct);
        await Interactive.Task.WaitAsync(timeout, ct);
    }

    /// <summary>From now on, remembers when a render batch first contains these UTF-8 bytes (see <see cref="Utf8"/>).</summary>
    public void Watch(byte[] encoded)
    {
        Interlocked.Exchange(ref _watchedSeenAt, 0);
        _watched = encoded;
    }

    public long WatchedSeenAt => Interlocked.Read(ref _watchedSeenAt);

    private async Task OnRenderBatchAsync(long batchId, byte[] data)
    {
        var now = Stopwatch.GetTimestamp();
        _events.Batch(data.Length);
        if (InteractiveAt == 0 && Contains(data, InteractiveMarker))
        {
            InteractiveAt = now;
            Interactive.TrySetResult();
        }

        if (_watched is { } watched && Interlocked.Read(ref _watchedSeenAt) == 0 && Contains(data, watched))
        {
            Interlocked.CompareExchange(ref _watchedSeenAt, now, 0);
            _events.Seen();
        }

        try
        {
            await _connection!.SendAsync("OnRenderCompleted", batchId, null);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or OperationCanceledException)
        {
            // The connection went away; Closed records it.
        }
    }

    /// <summary>
    /// Answers the JavaScript calls the board makes, as the browser would: <c>import</c> and other calls
    /// that return an object get a fresh JS object reference, the layout's <c>timeZone</c> gets "Etc/UTC",
    /// MudBlazor's two questions get the browser's answers, everything else (MudBlazor's initialisers,
    /// Blazor's own focus, title and interop set-up) returns null, as those void calls do in a browser.
    /// </summary>
    private async Task OnBeginInvokeJSAsync(object?[] args)
    {
        var asyncHandle = (long)args[0]!;
        var identifier = (string)args[1]!;
        var resultType = (int)args[3]!;
        _events.JsCall(identifier);
        if (asyncHandle == 0)
        {
            return; // fire and forget: nobody waits for an answer
        }

        JsonNode? result = resultType switch
        {
            1 => new JsonObject { ["__jsObjectId"] = Interlocked.Increment(ref _nextJsObjectId) }, // JSObjectReference
            _ when identifier == "timeZone" => "Etc/UTC",
            _ when identifier == "mudpopoverHelper.countProviders" => 1, // one MudPopoverProvider on the page
            _ when identifier == "window.hasOwnProperty" => true, // MudBlazor asking whether its script loaded
            _ => null,
        };
        var answer = new JsonArray(asyncHandle, true, result).ToJsonString();
        try
        {
            await _connection!.SendAsync("EndInvokeJSFromDotNet", asyncHandle, true, answer);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Closes the circuit as a closing tab does: the disconnect beacon ends it on the server at once (without
    /// it the server keeps a disconnected circuit for minutes in case the tab comes back), then the connection.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (CircuitId is not null && _http is not null)
        {
            try
            {
                using var response = await _http.PostAsync("_blazor/disconnect", new FormUrlEncodedContent([new("circuitId", CircuitId)]));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }

    public override string ToString() => $"circuit {_index} ({CircuitId?[..Math.Min(8, CircuitId.Length)]})";

    // ---- parsing and matching ------------------------------------------------------------------------

    /// <summary>
    /// The interactive server components' start markers, in order: <c>&lt;!--Blazor:{"type":"server",...}--&gt;</c>.
    /// End markers (<c>{"prerenderId":...}</c> only) are skipped.
    /// </summary>
    internal static List<JsonObject> ServerMarkers(string html)
    {
        var result = new List<(int Sequence, JsonObject Marker)>();
        foreach (Match m in MarkerComment().Matches(html))
        {
            if (JsonNode.Parse(m.Groups[1].Value) is JsonObject marker && (string?)marker["type"] == "server")
            {
                result.Add(((int?)marker["sequence"] ?? 0, marker));
            }
        }

        return [.. result.OrderBy(r => r.Sequence).Select(r => r.Marker)];
    }

    /// <summary>
    /// A render batch keeps each distinct string once, as UTF-8, in a table at its end; text, attribute values
    /// and static markup (Razor turns a constant element into one markup string) are all found there, so a
    /// unique piece of text is found by searching the batch's bytes.
    /// </summary>
    internal static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>The layout's interactive marker, which renders only once the circuit is live.</summary>
    private static readonly byte[] InteractiveMarker = Utf8("data-testid=\"interactive\"");

    private static bool Contains(byte[] data, byte[] needle) => data.AsSpan().IndexOf(needle) >= 0;

    [GeneratedRegex(@"<!--Blazor:(\{.*?\})-->", RegexOptions.Singleline)]
    private static partial Regex MarkerComment();

    [GeneratedRegex(@"<!--Blazor-Server-Component-State:([A-Za-z0-9+/=]+)-->")]
    private static partial Regex PersistedState();
}

/// <summary>The <c>blazorpack</c> protocol: SignalR's MessagePack protocol under the name Blazor's hub asks for.</summary>
internal sealed class BlazorPack : MessagePackHubProtocol, IHubProtocol
{
    public static readonly BlazorPack Instance = new();

    string IHubProtocol.Name => "blazorpack";
}

internal static class BlazorPackExtensions
{
    /// <summary>
    /// Replaces the registered hub protocols with <see cref="BlazorPack"/> only: Blazor's hub accepts
    /// SignalR's MessagePack wire format only under the name "blazorpack" (aspnetcore's Ignitor test client
    /// does the same).
    /// </summary>
    public static IHubConnectionBuilder AddBlazorPackProtocol(this IHubConnectionBuilder builder)
    {
        builder.Services.RemoveAll<IHubProtocol>();
        builder.Services.AddSingleton<IHubProtocol>(BlazorPack.Instance);
        return builder;
    }
}

/// <summary>Counters shared by all circuits (thread-safe).</summary>
internal sealed class CircuitEvents
{
    private long _batches;
    private long _batchBytes;
    private long _seen;
    private long _closed;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _jsCalls = new();

    public long Batches => Interlocked.Read(ref _batches);
    public long BatchBytes => Interlocked.Read(ref _batchBytes);
    public long SeenCount => Interlocked.Read(ref _seen);
    public long ClosedCount => Interlocked.Read(ref _closed);
    public IReadOnlyDictionary<string, int> JsCalls => _jsCalls;

    public void Batch(int bytes)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _batchBytes, bytes);
    }

    public void Seen() => Interlocked.Increment(ref _seen);

    public void ResetSeen() => Interlocked.Exchange(ref _seen, 0);

    public void Closed(BlazorCircuit circuit) => Interlocked.Increment(ref _closed);

    public void JsCall(string identifier) => _jsCalls.AddOrUpdate(identifier, 1, (_, n) => n + 1);
}

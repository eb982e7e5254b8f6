using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MessagePack;

namespace DeployPortal.LoadGen;

/// <summary>
/// One Blazor Server circuit, opened the way blazor.web.js (.NET 10) opens one: GET the page, read the
/// prerendered component markers and persisted state from it, connect a WebSocket to <c>/_blazor</c> with
/// SignalR's <c>blazorpack</c> (MessagePack) hub protocol, <c>StartCircuit</c> with no initial components, then
/// <c>UpdateRootComponents</c> with one "add" operation per marker. It acknowledges every render batch
/// (the server stops rendering after 10 unacknowledged ones) and answers every JS interop call so
/// components that await JavaScript (MudBlazor, the layout's time-zone module) carry on. It keeps no DOM:
/// a render batch is only searched for the strings the benchmark waits for.
/// <para>
/// It speaks the hub protocol itself, on a plain <see cref="ClientWebSocket"/>, rather than through SignalR's
/// <c>HubConnection</c>: with 5,000 clients in one process on the portal's machine, the generator's CPU is
/// taken from the portal it measures. On <c>HubConnection</c> (a pipe pair, transport and timers per connection,
/// reflective dispatch) the generator took 0.65–0.74 of 2 cores while slot changes went out; this client takes
/// 0.42–0.54. The wire format is SignalR's MessagePack hub protocol: a
/// JSON handshake ending in 0x1E, then messages each prefixed with their length as a 7-bit varint, each a
/// MessagePack array whose first item is the message type (read and written with MessagePack-CSharp, the
/// library SignalR uses).
/// </para>
/// </summary>
internal sealed partial class BlazorCircuit : IAsyncDisposable
{
    private const int InvocationType = 1, CompletionType = 3, PingType = 6, CloseType = 7;
    private const int ErrorResult = 1, NonVoidResult = 3;
    private const string StartCircuitId = "1";

    private readonly Uri _baseUri;
    private readonly CookieContainer _cookies;
    private readonly CircuitEvents _events;
    private readonly int _index;
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1); // a WebSocket takes one send at a time
    private readonly ArrayBufferWriter<byte> _message = new(256);
    private readonly ArrayBufferWriter<byte> _frame = new(256);
    private readonly TaskCompletionSource<string?> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HttpClient? _http;
    private Task? _receiving;
    private int _nextJsObjectId = 1;
    private int _closed;
    private long _lastSentAt;
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

        // Straight to the WebSocket, as SignalR's client does with SkipNegotiation. The negotiate request would
        // leave an idle keep-alive connection per circuit on the server, which a browser's shared connection
        // pool does not: the benchmark would count it as memory per circuit.
        _socket.Options.Cookies = _cookies;
        _socket.Options.KeepAliveInterval = TimeSpan.Zero; // the hub protocol's own pings keep it alive (KeepAliveAsync)
        var hub = new UriBuilder(new Uri(_baseUri, "_blazor")) { Scheme = _baseUri.Scheme == "https" ? "wss" : "ws" }.Uri;
        using var opening = CancellationTokenSource.CreateLinkedTokenSource(ct);
        opening.CancelAfter(timeout);
        await _socket.ConnectAsync(hub, opening.Token);
        await SendRawAsync("{\"protocol\":\"blazorpack\",\"version\":1}\u001e"u8.ToArray());
        _receiving = ReceiveAsync();

        await SendAsync(StartCircuitId, "StartCircuit", _baseUri.ToString(), _baseUri.ToString(), "[]", state);
        CircuitId = await _started.Task.WaitAsync(opening.Token);
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
        await SendAsync(null, "UpdateRootComponents", batch.ToJsonString(), state);
        await Interactive.Task.WaitAsync(opening.Token);
    }

    /// <summary>From now on, remembers when a render batch first contains these UTF-8 bytes (see <see cref="Utf8"/>).</summary>
    public void Watch(byte[] encoded)
    {
        Interlocked.Exchange(ref _watchedSeenAt, 0);
        _watched = encoded;
    }

    public long WatchedSeenAt => Interlocked.Read(ref _watchedSeenAt);

    /// <summary>
    /// Sends a ping if nothing was sent for <paramref name="idle"/>. The server closes a connection it has heard
    /// nothing from for 30 s; SignalR's clients ping every 15 s. One loop calls this for every circuit
    /// (see Program.cs), instead of a timer per connection.
    /// </summary>
    public async Task KeepAliveAsync(TimeSpan idle)
    {
        if (_closed == 0 && Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastSentAt)) >= idle)
        {
            await SendMessageAsync(static (ref MessagePackWriter w) =>
            {
                w.WriteArrayHeader(1);
                w.Write(PingType);
            });
        }
    }

    // ---- receiving -----------------------------------------------------------------------------------

    /// <summary>Reads frames into one buffer and handles every whole message in it; a message may span frames.</summary>
    private async Task ReceiveAsync()
    {
        var buffer = new byte[4096];
        var filled = 0;
        var handshakeDone = false;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2); // a first render or a big batch
                }

                var result = await _socket.ReceiveAsync(buffer.AsMemory(filled), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Fail("connection closed by the server" + (_socket.CloseStatusDescription is { Length: > 0 } d ? ": " + d : ""));
                    return;
                }

                filled += result.Count;
                var consumed = 0;
                if (!handshakeDone)
                {
                    var end = buffer.AsSpan(0, filled).IndexOf((byte)0x1e);
                    if (end < 0)
                    {
                        continue;
                    }

                    var handshake = Encoding.UTF8.GetString(buffer, 0, end);
                    if (handshake.Contains("\"error\"", StringComparison.Ordinal))
                    {
                        Fail("handshake refused: " + handshake);
                        return;
                    }

                    handshakeDone = true;
                    consumed = end + 1;
                }

                while (TryReadLength(buffer.AsSpan(consumed, filled - consumed), out var length, out var prefix)
                    && filled - consumed - prefix >= length)
                {
                    Handle(buffer.AsMemory(consumed + prefix, length));
                    consumed += prefix + length;
                }

                filled -= consumed;
                if (filled > 0)
                {
                    Buffer.BlockCopy(buffer, consumed, buffer, 0, filled);
                }
                else if (buffer.Length > 16384)
                {
                    buffer = new byte[4096]; // do not keep a first render's buffer for every idle circuit
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            Fail("connection closed: " + ex.Message);
        }
        catch (Exception ex)
        {
            Fail("unreadable message: " + ex);
        }
    }

    private void Handle(ReadOnlyMemory<byte> message)
    {
        var reader = new MessagePackReader(message);
        reader.ReadArrayHeader();
        switch (reader.ReadInt32())
        {
            case InvocationType:
                reader.Skip(); // headers
                if (!reader.TryReadNil())
                {
                    reader.Skip(); // invocation id: the server expects no answer to the calls Blazor makes
                }

                var target = reader.ReadString();
                reader.ReadArrayHeader();
                switch (target)
                {
                    case "JS.RenderBatch":
                        OnRenderBatch(reader.ReadInt64(), reader.ReadBytes() ?? default);
                        break;
                    case "JS.BeginInvokeJS":
                        OnBeginInvokeJS(reader.ReadInt64(), reader.ReadString()!, ref reader);
                        break;
                    case "JS.Error":
                        var error = reader.ReadString();
                        Error ??= "server: " + error;
                        Interactive.TrySetException(new InvalidOperationException("The circuit failed on the server: " + error));
                        break;
                        // JS.AttachComponent, JS.EndInvokeDotNet, JS.EndUpdateRootComponents, JS.EndLocationChanging: nothing to do.
                }

                break;
            case CompletionType:
                reader.Skip(); // headers
                var id = reader.ReadString();
                var kind = reader.ReadInt32();
                if (id == StartCircuitId)
                {
                    if (kind == ErrorResult)
                    {
                        _started.TrySetException(new InvalidOperationException("StartCircuit failed: " + reader.ReadString()));
                    }
                    else
                    {
                        _started.TrySetResult(kind == NonVoidResult && !reader.TryReadNil() ? reader.ReadString() : null);
                    }
                }

                break;
            case CloseType:
                Fail("the server closed the hub connection" + (reader.TryReadNil() ? "" : ": " + reader.ReadString()));
                break;
                // PingType: the server's keep-alive; nothing to answer.
        }
    }

    private void OnRenderBatch(long batchId, ReadOnlySequence<byte> data)
    {
        var now = Stopwatch.GetTimestamp();
        ReadOnlySpan<byte> bytes = data.IsSingleSegment ? data.FirstSpan : data.ToArray();
        _events.Batch(bytes.Length);
        if (InteractiveAt == 0 && bytes.IndexOf(InteractiveMarker) >= 0)
        {
            InteractiveAt = now;
            Interactive.TrySetResult();
        }

        if (_watched is { } watched && Interlocked.Read(ref _watchedSeenAt) == 0 && bytes.IndexOf(watched) >= 0)
        {
            Interlocked.CompareExchange(ref _watchedSeenAt, now, 0);
            _events.Seen();
        }

        _ = SendAsync(null, "OnRenderCompleted", batchId, null);
    }

    /// <summary>
    /// Answers the JavaScript calls the board makes, as the browser would: <c>import</c> and other calls
    /// that return an object get a fresh JS object reference, the layout's <c>timeZone</c> gets "Etc/UTC",
    /// MudBlazor's two questions get the browser's answers, everything else (MudBlazor's initialisers,
    /// Blazor's own focus, title and interop set-up) returns null, as those void calls do in a browser.
    /// </summary>
    private void OnBeginInvokeJS(long asyncHandle, string identifier, ref MessagePackReader reader)
    {
        reader.Skip(); // the arguments, as JSON
        var resultType = reader.ReadInt32();
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
        _ = SendAsync(null, "EndInvokeJSFromDotNet", asyncHandle, true, answer);
    }

    private void Fail(string error)
    {
        Error ??= error;
        Interactive.TrySetException(new InvalidOperationException(Error));
        _started.TrySetException(new InvalidOperationException(Error));
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _events.Closed(this);
        }
    }

    /// <summary>SignalR's length prefix: the message's length in 7-bit groups, low first, at most 5 bytes.</summary>
    private static bool TryReadLength(ReadOnlySpan<byte> data, out int length, out int prefix)
    {
        length = 0;
        for (prefix = 0; prefix < Math.Min(5, data.Length);)
        {
            var b = data[prefix];
            length |= (b & 0x7f) << (7 * prefix);
            prefix++;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }

    private static int WriteLength(Span<byte> destination, int length)
    {
        var i = 0;
        do
        {
            var b = (byte)(length & 0x7f);
            length >>= 7;
            destination[i++] = length > 0 ? (byte)(b | 0x80) : b;
        }
        while (length > 0);
        return i;
    }

    // ---- sending -------------------------------------------------------------------------------------

    private delegate void WriteMessage(ref MessagePackWriter writer);

    /// <summary>An invocation message: [1, headers, invocation id, target, arguments, stream ids].</summary>
    private Task SendAsync(string? invocationId, string target, params object?[] arguments) =>
        SendMessageAsync((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(6);
            w.Write(InvocationType);
            w.WriteMapHeader(0);
            if (invocationId is null)
            {
                w.WriteNil();
            }
            else
            {
                w.Write(invocationId);
            }

            w.Write(target);
            w.WriteArrayHeader(arguments.Length);
            foreach (var argument in arguments)
            {
                switch (argument)
                {
                    case null:
                        w.WriteNil();
                        break;
                    case string s:
                        w.Write(s);
                        break;
                    case long l:
                        w.Write(l);
                        break;
                    case bool b:
                        w.Write(b);
                        break;
                    default:
                        throw new ArgumentException($"no MessagePack form for {argument.GetType()}");
                }
            }

            w.WriteArrayHeader(0);
        });

    private async Task SendMessageAsync(WriteMessage write)
    {
        await _sendLock.WaitAsync();
        try
        {
            _message.ResetWrittenCount();
            var writer = new MessagePackWriter(_message);
            write(ref writer);
            writer.Flush();
            _frame.ResetWrittenCount();
            _frame.Advance(WriteLength(_frame.GetSpan(5), _message.WrittenCount));
            _frame.Write(_message.WrittenSpan);
            await SendFrameAsync(_frame.WrittenMemory);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            Fail("connection closed: " + ex.Message); // the receive loop usually says so first
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task SendRawAsync(byte[] data)
    {
        await _sendLock.WaitAsync();
        try
        {
            await SendFrameAsync(data);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private ValueTask SendFrameAsync(ReadOnlyMemory<byte> frame)
    {
        Interlocked.Exchange(ref _lastSentAt, Stopwatch.GetTimestamp());
        return _socket.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
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

        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
        }

        _socket.Abort();
        if (_receiving is not null)
        {
            await _receiving;
        }

        _socket.Dispose();
        Fail("closed by the generator");
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

    [GeneratedRegex(@"<!--Blazor:(\{.*?\})-->", RegexOptions.Singleline)]
    private static partial Regex MarkerComment();

    [GeneratedRegex(@"<!--Blazor-Server-Component-State:([A-Za-z0-9+/=]+)-->")]
    private static partial Regex PersistedState();
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

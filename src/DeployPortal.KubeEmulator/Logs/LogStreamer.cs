using System.Buffers;
using System.Globalization;
using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Api;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Logs;

/// <summary>
/// <c>GET pods/{name}/log</c> with container, follow, previous, tailLines, sinceSeconds, sinceTime, timestamps and
/// limitBytes, streamed as text/plain like kubelet (via the API server) does.
/// </summary>
internal sealed class LogStreamer(ObjectStore store, PodLogWriter writer, EmulatorOptions options)
{
    private const int Batch = 4096;

    public async Task StreamAsync(HttpContext ctx, string ns, string podName)
    {
        var q = ctx.Request.Query;
        var pod = store.Get(ResourceKind.Pod, ns, podName) ?? throw ApiError.NotFound(ResourceKind.Pod, podName);
        var names = (pod.Node["spec"]?["containers"] as JsonArray)?.Select(c => Json.Str(c, "name") ?? "").ToList() ?? [];
        var container = q["container"].FirstOrDefault();
        if (string.IsNullOrEmpty(container))
        {
            if (names.Count != 1)
            {
                throw ApiError.BadRequest($"a container name must be specified for pod {podName}, choose one of: [{string.Join(' ', names)}]");
            }

            container = names[0];
        }
        else if (!names.Contains(container))
        {
            throw ApiError.BadRequest($"container {container} is not valid for pod {podName}");
        }

        var follow = Query.IsTrue(q["follow"]);
        var previous = Query.IsTrue(q["previous"]);
        var timestamps = Query.IsTrue(q["timestamps"]);
        long? tail = long.TryParse(q["tailLines"], CultureInfo.InvariantCulture, out var tl) ? tl : null;
        long? limitBytes = long.TryParse(q["limitBytes"], CultureInfo.InvariantCulture, out var lb) ? lb : null;
        if (limitBytes is <= 0)
        {
            throw ApiError.Invalid(ResourceKind.Pod, podName, ("limitBytes", "FieldValueInvalid", $"Invalid value: {limitBytes}: must be greater than 0"));
        }

        if (tail is < 0)
        {
            tail = null;
        }

        long? since = null;
        if (q["sinceSeconds"].FirstOrDefault() is { Length: > 0 } ss)
        {
            if (!long.TryParse(ss, CultureInfo.InvariantCulture, out var secs) || secs <= 0)
            {
                throw ApiError.Invalid(ResourceKind.Pod, podName, ("sinceSeconds", "FieldValueInvalid", $"Invalid value: {ss}: must be greater than 0"));
            }

            since = writer.NowNanos - secs * 1_000_000_000;
        }
        if (q["sinceTime"].FirstOrDefault() is { Length: > 0 } st)
        {
            if (since is not null)
            {
                throw ApiError.BadRequest("at most one of `sinceTime` or `sinceSeconds` may be specified");
            }

            if (!LogEntry.TryParseTimestamp(st, out var sn))
            {
                throw ApiError.BadRequest($"invalid sinceTime: {st}");
            }

            since = sn;
        }

        var log = writer.Find(pod.Uid, container);
        var state = (pod.Node["status"]?["containerStatuses"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => Json.Str(c, "name") == container);
        LogBuffer? buffer;
        if (previous)
        {
            buffer = log?.Previous;
            if (buffer is null)
            {
                throw ApiError.BadRequest($"previous terminated container \"{container}\" in pod \"{podName}\" not found");
            }

            follow = false;
        }
        else
        {
            buffer = log?.Current;
            if (buffer is null)
            {
                var reason = Json.Str(state, "state", "waiting", "reason") ?? "ContainerCreating";
                var msg = reason is "ImagePullBackOff" or "ErrImagePull"
                    ? $"container \"{container}\" in pod \"{podName}\" is waiting to start: trying and failing to pull image"
                    : $"container \"{container}\" in pod \"{podName}\" is waiting to start: {reason}";
                throw ApiError.BadRequest(msg);
            }
        }

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/plain";
        ctx.Response.Headers.CacheControl = "no-cache, private";
        await ctx.Response.StartAsync(ctx.RequestAborted);

        var faults = options.Faults;
        var dropLines = faults.DropLogsAfterLines;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        var dropAt = faults.DropLogsAfter;
        if (dropAt is { } da)
        {
            cts.CancelAfter(da);
        }

        var generation = buffer.Generation;
        var seq = buffer.StartSequence(tail, since);
        var entries = new List<LogEntry>(Batch);
        var body = ctx.Response.BodyWriter;
        long written = 0, lines = 0;
        try
        {
            while (true)
            {
                entries.Clear();
                seq = buffer.Read(seq, Batch, entries);
                foreach (var e in entries)
                {
                    var bytes = timestamps ? e.Utf8.AsSpan() : e.Utf8.AsSpan(LogEntry.PrefixLength);
                    if (limitBytes is { } limit && written + bytes.Length >= limit)
                    {
                        body.Write(bytes[..(int)(limit - written)]);
                        await body.FlushAsync(cts.Token);
                        return;
                    }
                    body.Write(bytes);
                    written += bytes.Length;
                    lines++;
                    if (dropLines is { } dl && lines >= dl)
                    {
                        await body.FlushAsync(cts.Token);
                        await Task.Delay(50, cts.Token); // let the client read what was sent before the connection drops
                        ctx.Abort();
                        return;
                    }
                }
                if (entries.Count > 0)
                {
                    await body.FlushAsync(cts.Token);
                }

                if (entries.Count == Batch)
                {
                    continue;
                }

                if (!follow)
                {
                    return;
                }

                if (buffer.Generation != generation)
                {
                    return;           // rotated: kubelet closes the stream
                }

                if (buffer.Closed && !buffer.HasMore(seq))
                {
                    return;     // the container exited
                }

                await buffer.WaitAsync(seq).WaitAsync(cts.Token);
                if (buffer.Generation != generation)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested && dropAt is not null)
        {
            ctx.Abort();
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
    }

}

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>
/// A watch as the API server streams it: events from a resource version on, bookmarks, Table rows when asked for,
/// 410 Expired for a version too old, the server-side timeout, and the injected drops that test a client's re-watch.
/// </summary>
internal sealed class WatchStream(ObjectStore store, EmulatorOptions options, TimeProvider time)
{
    public async Task ServeAsync(HttpContext ctx, ResourceKind kind, string? ns)
    {
        var q = ctx.Request.Query;
        var filter = Selectors.Parse(q["labelSelector"], q["fieldSelector"]) ?? (_ => true);
        long? from = null;
        var rvText = q["resourceVersion"].FirstOrDefault();
        if (!string.IsNullOrEmpty(rvText) && rvText != "0")
        {
            if (!long.TryParse(rvText, CultureInfo.InvariantCulture, out var rv))
            {
                throw ApiError.BadRequest($"invalid resource version: {rvText}");
            }

            from = rv;
        }
        var timeout = options.WatchTimeout;
        if (long.TryParse(q["timeoutSeconds"], CultureInfo.InvariantCulture, out var ts) && ts > 0)
        {
            timeout = TimeSpan.FromSeconds(ts);
        }

        var bookmarks = Query.IsTrue(q["allowWatchBookmarks"]);
        var table = Tables.Wanted(ctx.Request.Headers.Accept);
        var includeObject = q["includeObject"].FirstOrDefault();
        var faults = options.Faults;

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json";
        ctx.Response.Headers.CacheControl = "no-cache, private";
        Subscription sub;
        try
        {
            sub = store.Subscribe(kind, ns, from, filter);
        }
        catch (ResourceVersionTooOldException e)
        {
            await ctx.Response.StartAsync(ctx.RequestAborted);
            var status = new JsonObject
            {
                ["kind"] = "Status",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject(),
                ["status"] = "Failure",
                ["message"] = e.Message,
                ["reason"] = "Expired",
                ["code"] = 410,
            };
            await ApiIo.WriteLineAsync(ctx, new JsonObject { ["type"] = "ERROR", ["object"] = status }.ToJsonString());
            return;
        }
        using var _sub = sub;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        cts.CancelAfter(timeout);
        var dropAfter = faults.DropWatchAfter;
        var dropAt = dropAfter is { } da ? time.GetUtcNow() + da : (DateTimeOffset?)null;
        await ctx.Response.StartAsync(cts.Token);
        await ctx.Response.Body.FlushAsync(cts.Token);
        var sent = 0;
        var headersSent = false;
        var lastBookmark = time.GetUtcNow();
        var reader = sub.Events.Reader;
        try
        {
            while (!cts.IsCancellationRequested)
            {
                var wait = options.BookmarkInterval;
                if (dropAt is { } d0)
                {
                    var left = d0 - time.GetUtcNow();
                    if (left < wait)
                    {
                        wait = left < TimeSpan.Zero ? TimeSpan.Zero : left;
                    }
                }
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
                tick.CancelAfter(wait);
                bool ready;
                try
                { ready = await reader.WaitToReadAsync(tick.Token); }
                catch (OperationCanceledException) when (!cts.IsCancellationRequested) { ready = false; }
                if (dropAt is { } d1 && time.GetUtcNow() >= d1)
                { ctx.Abort(); return; }
                if (!ready)
                {
                    if (reader.Completion.IsCompleted)
                    {
                        return;
                    }

                    if (bookmarks && time.GetUtcNow() - lastBookmark >= options.BookmarkInterval)
                    {
                        lastBookmark = time.GetUtcNow();
                        var bm = new JsonObject
                        {
                            ["type"] = "BOOKMARK",
                            ["object"] = new JsonObject
                            {
                                ["kind"] = kind.Kind,
                                ["apiVersion"] = kind.ApiVersion,
                                ["metadata"] = new JsonObject { ["resourceVersion"] = store.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture) },
                            },
                        };
                        await ApiIo.WriteLineAsync(ctx, bm.ToJsonString(), cts.Token);
                    }
                    continue;
                }
                var buffer = new MemoryStream();
                while (reader.TryRead(out var e))
                {
                    if (!filter(e.Object))
                    {
                        continue;
                    }

                    if (table)
                    {
                        var tbl = Tables.Build(kind, [e.Object], e.ResourceVersion, includeObject, time.GetUtcNow(), headers: !headersSent);
                        headersSent = true;
                        buffer.Write(Encoding.UTF8.GetBytes(new JsonObject { ["type"] = e.TypeName, ["object"] = tbl }.ToJsonString()));
                    }
                    else
                    {
                        buffer.Write("{\"type\":\""u8);
                        buffer.Write(Encoding.ASCII.GetBytes(e.TypeName));
                        buffer.Write("\",\"object\":"u8);
                        buffer.Write(e.Object.Json);
                        buffer.Write("}"u8);
                    }
                    buffer.WriteByte((byte)'\n');
                    sent++;
                    if (faults.DropWatchAfterEvents is { } n && sent >= n)
                    {
                        await ctx.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cts.Token);
                        await ctx.Response.Body.FlushAsync(cts.Token);
                        await Task.Delay(50, cts.Token); // let the client read what was sent before the connection drops
                        ctx.Abort();
                        return;
                    }
                }
                if (buffer.Length > 0)
                {
                    await ctx.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cts.Token);
                    await ctx.Response.Body.FlushAsync(cts.Token);
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
    }
}

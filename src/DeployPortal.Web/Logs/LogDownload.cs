using System.Text;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Logs;

/// <summary>
/// The whole log of an app in a slot as the cluster keeps it, streamed to the browser as a file: one pod, or all
/// of them merged by time. Read straight from the cluster line by line (nothing is held in memory), so it is
/// not limited by what a viewer keeps.
/// </summary>
public static class LogDownload
{
    public static string PathFor(string slot, string app) => $"/logs/{Uri.EscapeDataString(slot)}/{Uri.EscapeDataString(app)}";

    public static IEndpointRouteBuilder MapLogDownloads(this IEndpointRouteBuilder app)
    {
        app.MapGet("/logs/{slot}/{app}", DownloadAsync).RequireAuthorization();
        return app;
    }

    private static async Task<IResult> DownloadAsync(string slot, string app, string? pod, HttpContext http,
        IDbContextFactory<PortalDb> dbFactory, ClusterGateway cluster, PodWatcher podWatcher, TimeProvider clock, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ns = await db.Slots.AsNoTracking().Where(s => s.Name == slot).Select(s => s.Namespace).FirstOrDefaultAsync(ct);
        if (ns is null)
        {
            return Results.Problem(statusCode: 404, title: $"There is no slot named {slot}.");
        }

        IReadOnlyList<PodView> pods;
        try
        {
            pods = await podWatcher.ListPodsAsync(ns, app, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Results.Problem(statusCode: 503, title: "The cluster did not answer; try again in a moment.");
        }

        var names = pods.Select(p => p.Name).Where(p => pod is null || p == pod).Order(StringComparer.Ordinal).ToList();
        if (names.Count == 0)
        {
            return Results.Problem(statusCode: 404, title: pod is null ? $"{app} has no pods in {slot}." : $"{pod} is not a pod of {app} in {slot}.");
        }

        var file = $"{app}-{slot}{(pod is null ? "" : "-" + pod)}-{clock.GetUtcNow():yyyyMMdd-HHmmss}.log";
        return Results.Stream(async body =>
        {
            await using var writer = new StreamWriter(body, new UTF8Encoding(false), 64 * 1024);
            await foreach (var line in MergeAsync(names.Select(p => PodLogHub.ReadLinesAsync(cluster, new PodLogKey(ns, p, app), new LogRange(), ct)), ct))
            {
                await writer.WriteAsync(LogView.ToText(line, timestamps: true, podNames: names.Count > 1));
                await writer.WriteAsync('\n');
            }
        }, "text/plain; charset=utf-8", file);
    }

    /// <summary>Merges time-ordered streams by timestamp; a stream's own order is kept among equal timestamps.</summary>
    internal static async IAsyncEnumerable<LogLine> MergeAsync(IEnumerable<IAsyncEnumerable<LogLine>> sources,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var heads = new PriorityQueue<IAsyncEnumerator<LogLine>, (long Nanos, int Source)>();
        var all = new List<IAsyncEnumerator<LogLine>>();
        try
        {
            foreach (var source in sources)
            {
                var e = source.GetAsyncEnumerator(ct);
                all.Add(e);
                if (await e.MoveNextAsync())
                {
                    heads.Enqueue(e, (e.Current.UnixNanos, all.Count));
                }
            }

            while (heads.TryDequeue(out var e, out var key))
            {
                yield return e.Current;
                if (await e.MoveNextAsync())
                {
                    heads.Enqueue(e, (e.Current.UnixNanos, key.Source));
                }
            }
        }
        finally
        {
            foreach (var e in all)
            {
                await e.DisposeAsync();
            }
        }
    }
}

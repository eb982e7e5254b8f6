using System.Text.Json;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// App traffic as activity: every <see cref="PrometheusActivityOptions.PollEvery"/> the portal asks Prometheus ONE query
/// for all held slots (request counters grouped by namespace, <see cref="AppTrafficQuery"/>), and a slot whose apps
/// served requests since the last poll gets its hold's activity bumped (<see cref="IdleSlots.OnAppTrafficAsync"/>), so
/// someone testing the app without the portal open is neither asked "keep it?" nor put to sleep. Prometheus down, slow
/// or confused costs a warning: the holds keep their portal activity, and the job never fails. Without
/// <c>Activity:Prometheus:Url</c> it does nothing.
/// </summary>
internal sealed class AppTrafficPoll(
    IDbContextFactory<PortalDb> dbFactory,
    IdleSlots idle,
    IHttpClientFactory http,
    TimeProvider clock,
    IOptionsMonitor<ActivityOptions> options,
    ILogger<AppTrafficPoll> logger)
{
    public const string JobId = "app-traffic-activity";
    public const string HttpClientName = "prometheus-activity";

    /// <summary>Recurring. Returns how many holds the traffic kept in use (0 when Prometheus could not be asked).</summary>
    public async Task<int> RunAsync(CancellationToken ct = default)
    {
        var o = options.CurrentValue.Prometheus;
        if (o.Url is null)
        {
            return 0;
        }

        var now = DbTime.UtcNow(clock);
        List<(int SlotId, string Namespace)> held;
        await using (var db = dbFactory.CreateDbContext())
        {
            held = [.. (await db.Holds.AsNoTracking().Where(h => h.ReleasedAt == null && h.Until > now)
                .Select(h => new { h.SlotId, h.Slot!.Namespace }).ToListAsync(ct)).Select(h => (h.SlotId, h.Namespace))];
        }

        if (held.Count == 0)
        {
            return 0;
        }

        var namespaces = held.Select(h => h.Namespace).ToHashSet(StringComparer.Ordinal);
        var busy = await AskAsync(o, namespaces, ct);
        if (busy is null)
        {
            return 0;
        }

        var bumped = await idle.OnAppTrafficAsync([.. held.Where(h => busy.Contains(h.Namespace)).Select(h => h.SlotId)], ct);
        logger.LogDebug("App traffic: {Busy} of {Held} held slots served requests; {Bumped} holds marked in use", busy.Count, held.Count, bumped);
        return bumped;
    }

    /// <summary>The namespaces whose apps served requests; null (and a warning) when Prometheus gave no usable answer.</summary>
    private async Task<IReadOnlySet<string>?> AskAsync(PrometheusActivityOptions o, IReadOnlyCollection<string> namespaces, CancellationToken ct)
    {
        var query = AppTrafficQuery.Render(o, namespaces);
        var address = new Uri(o.Url!.ToString().TrimEnd('/') + "/api/v1/query?query=" + Uri.EscapeDataString(query));
        try
        {
            // Each attempt is bounded by Timeout (Polly, one retry); this bounds the whole ask.
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bound.CancelAfter(o.Timeout * 2 + TimeSpan.FromSeconds(1));
            using var response = await http.CreateClient(HttpClientName).GetAsync(address, bound.Token);
            var body = await response.Content.ReadAsStringAsync(bound.Token);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogWarning("App traffic not read: Prometheus at {Url} answered {Status} ({Body}); holds keep their portal activity only",
                    o.Url, (int)response.StatusCode, body.Length > 300 ? body[..300] : body);
                return null;
            }

            using var answer = JsonDocument.Parse(body);
            return AppTrafficQuery.Busy(answer.RootElement, AppTrafficQuery.Label(o), namespaces);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning("App traffic not read: Prometheus at {Url} did not answer usefully ({Reason}); holds keep their portal activity only",
                o.Url, e.Message);
            return null;
        }
    }
}

using DeployPortal.Web.Apps;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Git;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Slots;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Registry;

/// <summary>
/// Deployments that wait for CI to push their image (<see cref="DeploymentState.WaitingForImage"/>). Everything is on
/// the row (the awaited tag, when it was last checked, how often, when to give up), so a restarted portal carries on.
/// Each is checked 15 s after the last look, doubling to at most 5 min (<see cref="ImageWaitWatch"/> looks for due ones),
/// or at once when the registry reports a push of its tag. Found: the row becomes Queued with the digest found then,
/// and the normal pipeline runs it. Past <see cref="RegistryOptions.WaitForImageLimit"/>: it fails, saying so. Every
/// change is a conditional update from WaitingForImage, so two replicas (or a cancel) never both act on one row.
/// </summary>
internal sealed class ImageWait(
    IDbContextFactory<PortalDb> dbFactory,
    AppCatalog apps,
    BranchCatalog branches,
    ImageCheck images,
    IBackgroundJobClient jobs,
    SlotChangeNotifier notifier,
    PortalEvents events,
    IOptionsMonitor<RegistryOptions> options,
    TimeProvider clock,
    ILogger<ImageWait> logger)
{
    private static readonly TimeSpan FirstRecheck = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan LongestRecheck = TimeSpan.FromMinutes(5);

    /// <summary>How long after its <paramref name="checks"/>-th look the registry is asked again: 15 s, 30 s, 1 min … 5 min.</summary>
    public static TimeSpan Recheck(int checks) =>
        TimeSpan.FromTicks(Math.Min(LongestRecheck.Ticks, FirstRecheck.Ticks << Math.Clamp(checks - 1, 0, 10)));

    /// <summary>When a wait that starts at <paramref name="now"/> gives up.</summary>
    public DateTime GivesUpAt(DateTime now) => now + options.CurrentValue.WaitForImageLimit;

    /// <summary>Checks every waiting deployment whose next look (or whose limit) is due. Returns how many started.</summary>
    public async Task<int> CheckDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        List<(long Id, DateTime Last, int Checks, DateTime? Until)> waiting;
        await using (var db = dbFactory.CreateDbContext())
        {
            waiting = [.. (await db.Deployments.AsNoTracking().Where(d => d.State == DeploymentState.WaitingForImage)
                .Select(d => new { d.Id, d.CreatedAt, d.ImageCheckedAt, d.ImageChecks, d.ImageWaitUntil }).ToListAsync(ct))
                .Select(d => (d.Id, d.ImageCheckedAt ?? d.CreatedAt, d.ImageChecks, d.ImageWaitUntil))];
        }

        var started = 0;
        foreach (var d in waiting.Where(d => d.Last + Recheck(d.Checks) <= now || d.Until <= now))
        {
            started += await CheckAsync(d.Id, ct) ? 1 : 0;
        }

        return started;
    }

    /// <summary>
    /// The registry reports a push of <paramref name="repository"/>:<paramref name="tag"/>: checks at once the
    /// deployments waiting for it (on whichever registry host; the check itself asks the configured one). Returns how many started.
    /// </summary>
    public async Task<int> PushedAsync(string repository, string tag, CancellationToken ct)
    {
        List<(long Id, string Image)> waiting;
        await using (var db = dbFactory.CreateDbContext())
        {
            waiting = [.. (await db.Deployments.AsNoTracking().Where(d => d.State == DeploymentState.WaitingForImage && d.Image != null)
                .Select(d => new { d.Id, d.Image }).ToListAsync(ct)).Select(d => (d.Id, d.Image!))];
        }

        var started = 0;
        foreach (var (id, image) in waiting)
        {
            var name = ImageName.Parse(image);
            if (name.Repository == repository && name.Tag == tag)
            {
                images.Forget(image);
                started += await CheckAsync(id, ct) ? 1 : 0;
            }
        }

        return started;
    }

    /// <summary>
    /// A queued deployment nobody looked at the image of (the waitlist's hand-over): starts it when its image is built
    /// or not checked, and makes it wait when the registry has no such tag yet, instead of a failed pull. Anything
    /// else (branch gone, registry refusing) starts it too, and its resolve step says what is wrong.
    /// </summary>
    public async Task StartOrWaitAsync(long id, CancellationToken ct)
    {
        try
        {
            Deployment? d;
            await using (var db = dbFactory.CreateDbContext())
            {
                d = await db.Deployments.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id && x.State == DeploymentState.Queued, ct);
            }

            if (d is not null && apps.Find(d.App) is { } app && images.IsEnabledFor(app.ImageRepository)
                && await branches.ResolveAsync(app, d.Branch, ct) is { } branch)
            {
                var image = KubeNames.ImageReference(app.ImageRepository, app.TagTemplate, branch.Name, branch.Commit);
                if (await images.ResolveAsync(image, ct) is { Status: ImageStatus.Missing })
                {
                    var now = clock.GetUtcNow().UtcDateTime;
                    var until = GivesUpAt(now);
                    await using var db = dbFactory.CreateDbContext();
                    if (await db.Deployments.Where(x => x.Id == id && x.State == DeploymentState.Queued).ExecuteUpdateAsync(s => s
                            .SetProperty(x => x.State, DeploymentState.WaitingForImage).SetProperty(x => x.Commit, branch.Commit)
                            .SetProperty(x => x.Image, image).SetProperty(x => x.ImageWaitUntil, until)
                            .SetProperty(x => x.ImageCheckedAt, now).SetProperty(x => x.ImageChecks, 1), ct) == 1)
                    {
                        logger.LogInformation("Deployment {Id} waits for its image {Image} until {Until:u}", id, image, until);
                        notifier.Publish(new SlotChange(d.SlotId, "deployment", id));
                        return;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is GitException or DbUpdateException or HttpRequestException)
        {
            logger.LogWarning("Could not check the image of deployment {Id} before starting it: {Reason}", id, ex.Message);
        }

        DeploymentService.Enqueue(jobs, id);
    }

    /// <summary>Asks the registry for one waiting deployment's image: starts it, gives up, or notes the look. True when it started.</summary>
    public async Task<bool> CheckAsync(long id, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        var d = await db.Deployments.AsNoTracking().Include(x => x.Slot)
            .FirstOrDefaultAsync(x => x.Id == id && x.State == DeploymentState.WaitingForImage, ct);
        if (d?.Image is null)
        {
            return false;
        }

        var lookup = await images.ResolveAsync(d.Image, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var waiting = db.Deployments.Where(x => x.Id == id && x.State == DeploymentState.WaitingForImage);
        if (lookup is null or { Status: ImageStatus.Found })
        {
            // No registry configured for it any more: deployed by tag, as without one.
            if (await waiting.ExecuteUpdateAsync(s => s.SetProperty(x => x.State, DeploymentState.Queued)
                    .SetProperty(x => x.ImageDigest, lookup == null ? null : lookup.Digest).SetProperty(x => x.ImageCheckedAt, now)
                    .SetProperty(x => x.ImageChecks, x => x.ImageChecks + 1), ct) == 0)
            {
                return false;
            }

            logger.LogInformation("The image {Image} of deployment {Id} is built ({Digest}); starting it", d.Image, id, lookup?.Digest);
            DeploymentService.Enqueue(jobs, id);
            notifier.Publish(new SlotChange(d.SlotId, "deployment", id));
            events.Raise(new PortalEvent(PortalEventKind.ImageBuilt, d.Slot!.Name, d.RequestedById, d.RequestedByName,
                $"The image {d.Image} is built: {d.App} {d.Branch} is deploying to {d.Slot.Name} for {d.RequestedByName}.", $"/deployments/{id}"));
            return true;
        }

        if (d.ImageWaitUntil <= now)
        {
            var reason = $"Gave up waiting for the image {d.Image}: it was not built within {TimeText.Duration(d.ImageWaitUntil.Value - d.CreatedAt)}"
                + (lookup.Status == ImageStatus.Missing ? "." : $" ({lookup.Problem}).");
            if (await waiting.ExecuteUpdateAsync(s => s.SetProperty(x => x.State, DeploymentState.Failed).SetProperty(x => x.FinishedAt, now)
                    .SetProperty(x => x.FailureReason, reason).SetProperty(x => x.ImageCheckedAt, now), ct) == 1)
            {
                logger.LogInformation("Deployment {Id} gave up waiting for {Image}", id, d.Image);
                notifier.Publish(new SlotChange(d.SlotId, "deployment", id));
                events.Raise(new PortalEvent(PortalEventKind.DeployFailed, d.Slot!.Name, d.RequestedById, d.RequestedByName,
                    $"{d.App} {d.Branch} did not deploy to {d.Slot.Name} for {d.RequestedByName}: {reason}", $"/deployments/{id}"));
            }

            return false;
        }

        // Not built yet (or the registry could not say this time): look again later.
        await waiting.ExecuteUpdateAsync(s => s.SetProperty(x => x.ImageCheckedAt, now).SetProperty(x => x.ImageChecks, x => x.ImageChecks + 1), ct);
        notifier.Publish(new SlotChange(d.SlotId, "deployment", id));
        return false;
    }
}

/// <summary>Looks for waiting deployments whose next check is due, every few seconds, on every replica (the updates are conditional).</summary>
internal sealed class ImageWaitWatch(IServiceScopeFactory scopes, TimeProvider clock, ILogger<ImageWaitWatch> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick, clock);
        try
        {
            do
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<ImageWait>().CheckDueAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The database is unreachable: the next tick looks again.
                    logger.LogWarning("Checking the images deployments wait for failed: {Reason}", ex.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

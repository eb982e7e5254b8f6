using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Deployments;

/// <summary>
/// The rows that show a deployment's steps as they run: started, the latest message (cluster retries included),
/// succeeded or failed with the reason. Every write is published to the slot's pages.
/// </summary>
internal sealed class DeploymentStepLog(IDbContextFactory<PortalDb> dbFactory, DeploymentLeases leases, SlotChangeNotifier notifier, TimeProvider clock)
{
    private const int MaxMessage = 4000;

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>Runs one step under its row: its result, or its error (recorded, then rethrown).</summary>
    public async Task<T> RunAsync<T>(DeploymentLease lease, StepName name, Func<Task<(T Result, string Message)>> body, CancellationToken ct)
    {
        var id = lease.DeploymentId;
        await using (var db = dbFactory.CreateDbContext())
        {
            var step = await db.DeploymentSteps.FirstOrDefaultAsync(s => s.DeploymentId == id && s.Name == name, ct);
            if (step is null)
            {
                db.DeploymentSteps.Add(step = new DeploymentStep { DeploymentId = id, Name = name });
            }

            (step.State, step.StartedAt, step.FinishedAt, step.Message) = (StepState.Running, Now, null, "");
            await db.SaveChangesAsync(ct);
        }

        notifier.Publish(lease.Change);
        try
        {
            // A cluster that answers 500 or hangs is retried with back-off; the step says so while it waits.
            (T Result, string Message) outcome;
            using (ClusterRetries.Observe(retry => UpdateMessageAsync(lease, name, retry.ToString(), ct)))
            {
                outcome = await body();
            }

            var (result, message) = outcome;
            await EndAsync(lease, name, StepState.Succeeded, message, ct);
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // After a cancel (a release deletes the objects under the rollout) the error is the cancel's doing.
            await EndAsync(lease, name, StepState.Failed,
                await leases.CancelRequestedAsync(id) ? "Stopped: the deployment was cancelled." : ex.Message, CancellationToken.None);
            throw;
        }
    }

    /// <summary>The running step's message, e.g. how many pods are ready.</summary>
    public async Task UpdateMessageAsync(DeploymentLease lease, StepName name, string message, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        await db.DeploymentSteps.Where(s => s.DeploymentId == lease.DeploymentId && s.Name == name).ExecuteUpdateAsync(s => s.SetProperty(x => x.Message, message), ct);
        notifier.Publish(lease.Change);
    }

    private async Task EndAsync(DeploymentLease lease, StepName name, StepState state, string message, CancellationToken ct)
    {
        var now = Now;
        var text = message.Length > MaxMessage ? message[..MaxMessage] : message;
        await using var db = dbFactory.CreateDbContext();
        await db.DeploymentSteps.Where(s => s.DeploymentId == lease.DeploymentId && s.Name == name)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.State, state).SetProperty(x => x.FinishedAt, now).SetProperty(x => x.Message, text), ct);
        notifier.Publish(lease.Change);
    }
}

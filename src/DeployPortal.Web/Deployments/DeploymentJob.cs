using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Git;
using DeployPortal.Web.GitOps;
using DeployPortal.Web.Slots;
using Hangfire;

namespace DeployPortal.Web.Deployments;

/// <summary>
/// Executes one deployment as a Hangfire job: takes its lease (<see cref="DeploymentLeases"/>), runs the steps
/// (<see cref="DeploymentPipeline"/>) while the lease is supervised, turns whatever stopped them into the outcome
/// (failed, cancelled, or handed back on shutdown), and starts the next deployment of the same app and slot.
/// </summary>
internal sealed class DeploymentJob(
    DeploymentLeases leases,
    DeploymentPipeline pipeline,
    DeploymentOutcome outcome,
    GitOpsDelivery gitOps,
    SlotChangeNotifier notifier,
    ILogger<DeploymentJob> logger)
{
    [AutomaticRetry(Attempts = 0)] // the reconciler, not Hangfire, decides when a deployment runs again
    public async Task RunAsync(long deploymentId, CancellationToken cancellationToken)
    {
        if (await leases.TakeAsync(deploymentId, cancellationToken) is not { } lease)
        {
            return;
        }

        notifier.Publish(lease.Change);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var supervisor = leases.SuperviseAsync(lease, stop);
        try
        {
            await pipeline.RunAsync(lease, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var cancelled = await leases.CancelRequestedAsync(deploymentId);
            await outcome.FinishAsync(lease, cancelled ? DeploymentState.Cancelled : DeploymentState.Failed,
                cancelled ? await CancelReasonAsync(deploymentId) : "Another worker took this deployment over.", CancellationToken.None);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The process is shutting down: hand the lease back, so the deployment is resumed soon.
            logger.LogInformation("Deployment {Id} interrupted by shutdown; it will be resumed", deploymentId);
            await leases.HandBackAsync(lease);
            throw;
        }
        catch (Exception ex) when (IsFailure(ex))
        {
            if (await leases.CancelRequestedAsync(deploymentId))
            {
                // A release tears the slot down while the rollout runs: the cluster then answers 404 for the objects
                // it deleted before the supervisor saw the cancel. That is the cancel taking effect, not a failure.
                logger.LogInformation("Deployment {Id} stopped by a cancel request: {Reason}", deploymentId, ex.Message);
                await outcome.FinishAsync(lease, DeploymentState.Cancelled, await CancelReasonAsync(deploymentId), CancellationToken.None);
            }
            else
            {
                await outcome.FinishAsync(lease, DeploymentState.Failed, ex is ClusterRejectedException or GitException or DeploymentFailedException
                    ? ex.Message
                    : $"The cluster did not answer after several tries: {ex.Message}", CancellationToken.None);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await supervisor;
        }

        await outcome.StartNextAsync(deploymentId, CancellationToken.None);
    }

    /// <summary>Why it was cancelled; in GitOps mode its pushed commit is reverted first, and the reason says so.</summary>
    private async Task<string> CancelReasonAsync(long deploymentId)
    {
        var reverted = await gitOps.RevertCancelledAsync(deploymentId, CancellationToken.None);
        var reason = await leases.CancelReasonAsync(deploymentId);
        return reverted is null ? reason : $"{reason} {reverted}";
    }

    private static bool IsFailure(Exception ex) => ex is ClusterRejectedException or GitException or DeploymentFailedException
        or HttpRequestException or IOException or Polly.Timeout.TimeoutRejectedException or k8s.Autorest.HttpOperationException;
}

using DeployPortal.Web.Cluster;
using k8s.Models;

namespace DeployPortal.Web.Tests.Cluster;

/// <summary>From a Deployment's status and its pods to the portal's rollout state, without a cluster.</summary>
public sealed class RolloutEvaluatorTests
{
    private static V1Deployment Deployment(int desired = 2, int available = 2, int updated = 2, int replicas = 2, long generation = 3, long observed = 3,
        V1DeploymentCondition? condition = null) => new()
        {
            Metadata = new V1ObjectMeta { Generation = generation },
            Spec = new V1DeploymentSpec { Replicas = desired, ProgressDeadlineSeconds = 120 },
            Status = new V1DeploymentStatus
            {
                ObservedGeneration = observed,
                AvailableReplicas = available,
                UpdatedReplicas = updated,
                Replicas = replicas,
                Conditions = condition is null ? null : [condition],
            },
        };

    private static PodView Pod(string name, bool ready = true, string? reason = null, int restarts = 0) =>
        new(name, ready ? "Running" : "Pending", ready, restarts, reason, "web:2", null);

    [Fact]
    public void Evaluate_EveryPodReadyAndTheDeploymentAvailable_IsDone()
    {
        var verdict = RolloutEvaluator.Evaluate(Deployment(), [Pod("web-a"), Pod("web-b")]);

        Assert.Equal(new RolloutStatus(true, null, 2, 2, verdict.Status.Pods), verdict.Status);
        Assert.Null(verdict.Crashed);
    }

    [Theory]
    [InlineData(1, 2, 2, 3)] // one replica not yet available
    [InlineData(2, 1, 2, 3)] // one replica not yet updated
    [InlineData(2, 2, 3, 3)] // an old replica still running
    [InlineData(2, 2, 2, 2)] // the controller has not seen the latest spec
    public void Evaluate_TheDeploymentNotThereYet_IsNotDone(int available, int updated, int replicas, long observed)
    {
        var status = RolloutEvaluator.Evaluate(Deployment(available: available, updated: updated, replicas: replicas, observed: observed), [Pod("web-a"), Pod("web-b")]).Status;

        Assert.False(status.Done);
        Assert.Null(status.Failure);
    }

    [Fact]
    public void Evaluate_APodNotReady_IsNotDone_AndCountsTheReadyOnes()
    {
        var status = RolloutEvaluator.Evaluate(Deployment(), [Pod("web-a"), Pod("web-b", ready: false)]).Status;

        Assert.Equal((false, 1, 2), (status.Done, status.Ready, status.Desired));
    }

    [Theory]
    [InlineData("ErrImagePull")]
    [InlineData("ImagePullBackOff")]
    [InlineData("InvalidImageName")]
    [InlineData("ErrImageNeverPull")]
    public void Evaluate_AnImageThatCannotBePulled_FailsAtOnce_NamingTheImage(string reason)
    {
        var status = RolloutEvaluator.Evaluate(Deployment(available: 0), [Pod("web-a", ready: false, reason: reason)]).Status;

        Assert.True(status.Done);
        Assert.Equal($"The image web:2 could not be pulled ({reason}). Has CI built and pushed this branch yet?", status.Failure);
    }

    [Fact]
    public void Evaluate_ACrashLoop_Fails_AndNamesThePodWhoseLogExplainsIt()
    {
        var verdict = RolloutEvaluator.Evaluate(Deployment(available: 0), [Pod("web-a", ready: false, reason: "CrashLoopBackOff", restarts: 4)]);

        Assert.True(verdict.Status.Done);
        Assert.Equal("web-a", verdict.Crashed?.Name);
        Assert.Equal("The app crashes on start (CrashLoopBackOff; pod web-a restarted 4 times).", verdict.Status.Failure);
        Assert.Equal("The app crashes on start (CrashLoopBackOff; pod web-a restarted 4 times). Last lines of its log:\npanic: no config",
            verdict.WithCrashLog("panic: no config").Failure);
        Assert.Equal(verdict.Status, verdict.WithCrashLog(""));
    }

    [Fact]
    public void Evaluate_ACrashLoopAfterOneRestart_SaysOneTime()
    {
        var verdict = RolloutEvaluator.Evaluate(Deployment(available: 0), [Pod("web-a", ready: false, reason: "CrashLoopBackOff", restarts: 1)]);

        Assert.Equal("The app crashes on start (CrashLoopBackOff; pod web-a restarted 1 time).", verdict.Status.Failure);
    }

    [Fact]
    public void Evaluate_APullFailure_WinsOverACrashLoop()
    {
        var verdict = RolloutEvaluator.Evaluate(Deployment(available: 0),
            [Pod("web-a", ready: false, reason: "CrashLoopBackOff"), Pod("web-b", ready: false, reason: "ImagePullBackOff")]);

        Assert.StartsWith("The image web:2 could not be pulled", verdict.Status.Failure);
        Assert.Null(verdict.Crashed);
    }

    [Fact]
    public void Evaluate_ProgressDeadlineExceeded_Fails_WithHowFarItGot()
    {
        var stuck = new V1DeploymentCondition { Type = "Progressing", Status = "False", Reason = "ProgressDeadlineExceeded" };

        var status = RolloutEvaluator.Evaluate(Deployment(available: 1, condition: stuck), [Pod("web-a"), Pod("web-b", ready: false)]).Status;

        Assert.True(status.Done);
        Assert.Equal("The rollout made no progress for 120 s (ProgressDeadlineExceeded): 1 of 2 pods became ready.", status.Failure);
    }

    [Fact]
    public void Evaluate_NoStatusYet_IsNotDone()
    {
        var deployment = new V1Deployment { Metadata = new V1ObjectMeta(), Spec = new V1DeploymentSpec() };

        var status = RolloutEvaluator.Evaluate(deployment, []).Status;

        Assert.Equal((false, null, 0, 1), (status.Done, status.Failure, status.Ready, status.Desired));
    }
}

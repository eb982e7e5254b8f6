using DeployPortal.Web.Cluster;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using k8s;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Deployments;

/// <summary>
/// The whole pipeline as it runs in production: the portal's Hangfire job, gateway and the real
/// KubernetesClient over HTTP against the Kubernetes API emulator, once in each deployment mode
/// (<see cref="DirectDeploymentPipelineTests"/>, <see cref="GitOpsDeploymentPipelineTests"/>): the same tests, the same
/// outcomes, whether the portal applies the objects itself or commits them and the emulator's Argo CD-like controller
/// applies them. Where the modes differ by design (who applies, which call a cluster fault hits) the test asks
/// <see cref="GitOps"/>; the mode-specific cases are in <c>GitOps/GitOpsDeploymentTests</c>.
/// </summary>
public abstract class DeploymentPipelineTests : IAsyncLifetime
{
    private DeployHarness _h = default!;

    /// <summary>True: the portal commits to a configuration repository and Argo CD (the emulator's controller) applies it.</summary>
    protected abstract bool GitOps { get; }

    /// <summary>The cluster call that applies a deployment in this mode, where a fault is injected: the portal's server-side apply, or its Application create.</summary>
    private (string Path, string Method) ApplyCall => GitOps ? ("/applications", "POST") : ("/deployments/", "PATCH");

    public async Task InitializeAsync() => _h = await DeployHarness.CreateAsync(mode: GitOps ? DeploymentMode.GitOps : DeploymentMode.Direct);

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Deploy_HealthyBranch_Succeeds_WithEveryStepAndLabelledObjects()
    {
        var queued = await _h.DeployAsync(TestUsers.Dana, "storefront", "feature/login", "qa-1", "login test");

        var done = await _h.WaitFinishedAsync(queued.Id);

        Assert.Equal(DeploymentState.Succeeded, done.State);
        Assert.Equal([StepName.Resolve, StepName.Apply, StepName.Rollout, StepName.Verify], done.Steps.Select(s => s.Name));
        Assert.All(done.Steps, s => Assert.Equal(StepState.Succeeded, s.State));
        Assert.Equal("registry.example.com/shop/storefront:feature-login", done.Image);
        Assert.Matches("^[0-9a-f]{40}$", done.Commit!);

        var deployment = await _h.Kubernetes.AppsV1.ReadNamespacedDeploymentAsync("storefront", "qa-1");
        Assert.Equal(2, deployment.Status.AvailableReplicas);
        Assert.Equal("feature-login-" + deployment.Metadata.Labels["deployportal.io/branch"][^6..], deployment.Metadata.Labels["deployportal.io/branch"]);
        Assert.Equal("feature/login", deployment.Metadata.Annotations["deployportal.io/branch"]);
        Assert.Equal(done.HoldId.ToString(), deployment.Metadata.Labels[ManifestBuilder.HoldLabel]);
        Assert.Contains(deployment.Metadata.ManagedFields, f => f.Manager == (GitOps ? "argocd-controller" : ManifestBuilder.FieldManager));
        Assert.NotNull(await _h.Kubernetes.CoreV1.ReadNamespacedServiceAsync("storefront", "qa-1"));
        Assert.Equal("storefront.qa-1.test.example.com", (await _h.Kubernetes.NetworkingV1.ReadNamespacedIngressAsync("storefront", "qa-1")).Spec.Rules[0].Host);

        // The deploy claimed the free slot in the same step.
        var board = await BoardAsync();
        Assert.Equal("Dana Developer", board.Single(s => s.Name == "qa-1").Hold?.HolderName);
    }

    [Fact]
    public async Task Sleep_ScalesTheHoldsAppsToZero_AndWakeBringsBackTheirReplicas()
    {
        var done = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "storefront", "main", "qa-1")).Id);
        Assert.Equal(DeploymentState.Succeeded, done.State);
        var idle = _h.Service<IdleSlots>(out var scope);
        using (scope)
        {
            Assert.True((await idle.SleepAsync(TestUsers.Dana, done.SlotId, done.HoldId!.Value)).Succeeded);
            var asleep = await _h.WaitForDeploymentAsync("qa-1", "storefront", d => d.Spec.Replicas == 0 && (d.Status.Replicas ?? 0) == 0);
            Assert.Equal("2", asleep.Metadata.Annotations[ManifestBuilder.ReplicasBeforeSleepAnnotation]);

            Assert.True((await idle.WakeAsync(TestUsers.Devon, done.SlotId, done.HoldId!.Value)).Value);
            var awake = await _h.WaitForDeploymentAsync("qa-1", "storefront", d => d.Status.AvailableReplicas == 2);
            Assert.False(awake.Metadata.Annotations?.ContainsKey(ManifestBuilder.ReplicasBeforeSleepAnnotation) ?? false);
        }
    }

    [Fact]
    public async Task Deploy_CrashingBranch_Fails_WithCrashLoopBackOffAndTheLastLogLines()
    {
        // Slower than the rollout's one-second tick, as on a real cluster: pod changes arrive between ticks.
        _h.Emulator.Options.CrashAfter = TimeSpan.FromSeconds(1.6);
        _h.Emulator.Options.BackOffBase = TimeSpan.FromSeconds(1.3);
        var queued = await _h.DeployAsync(TestUsers.Dana, "payments", "crash-on-start", "qa-1");

        var done = await _h.WaitFinishedAsync(queued.Id);

        Assert.Equal(DeploymentState.Failed, done.State);
        Assert.Contains("CrashLoopBackOff", done.FailureReason);
        Assert.Contains("Last lines of its log", done.FailureReason);
        Assert.Equal(StepState.Failed, done.Steps.Single(s => s.Name == StepName.Rollout).State);
    }

    [Fact]
    public async Task Deploy_ImageThatCannotBePulled_Fails_SayingSo()
    {
        var queued = await _h.DeployAsync(TestUsers.Dana, "broken", "main", "qa-1");

        var done = await _h.WaitFinishedAsync(queued.Id);

        Assert.Equal(DeploymentState.Failed, done.State);
        Assert.Contains("could not be pulled", done.FailureReason);
        Assert.Matches("ErrImagePull|ImagePullBackOff", done.FailureReason!);
    }

    [Fact]
    public async Task Deploy_AppThatNeverBecomesReady_Fails_WithProgressDeadlineExceeded()
    {
        var queued = await _h.DeployAsync(TestUsers.Dana, "sleepy", "main", "qa-1");

        var done = await _h.WaitFinishedAsync(queued.Id, TimeSpan.FromSeconds(40));

        Assert.Equal(DeploymentState.Failed, done.State);
        Assert.Contains("ProgressDeadlineExceeded", done.FailureReason);
    }

    [Fact]
    public async Task Deploy_WhenTheClusterAnswers503AFewTimes_RetriesAndSucceeds()
    {
        _h.Emulator.Faults.FailNext(3, 503);

        var queued = await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-2");
        var done = await _h.WaitFinishedAsync(queued.Id);

        Assert.Equal(DeploymentState.Succeeded, done.State);
    }

    [Fact]
    public async Task Deploy_WhenTheClusterAnswers500_TheStepSaysItIsRetrying_WhileItWaits()
    {
        (_h.Emulator.Faults.PathContains, _h.Emulator.Faults.Method) = ApplyCall;
        _h.Emulator.Faults.ErrorStatusCodes = [500];
        _h.Emulator.Faults.ErrorRate = 1; // every apply, until the test has seen the step say so

        var queued = await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-2");
        var retrying = await _h.WaitForAsync(queued.Id, d => d.Steps.Any(s => s.Name == StepName.Apply && s.Message.StartsWith("retrying", StringComparison.Ordinal)));
        _h.Emulator.Faults.Reset();
        var done = await _h.WaitFinishedAsync(queued.Id);

        var apply = retrying.Steps.Single(s => s.Name == StepName.Apply);
        Assert.Equal(StepState.Running, apply.State);
        Assert.Matches(@"^retrying \([2-6] of 6\): the cluster answered 500$", apply.Message);
        Assert.Equal(DeploymentState.Succeeded, done.State);
        Assert.StartsWith(GitOps ? "Committed" : "Applied Deployment", done.Steps.Single(s => s.Name == StepName.Apply).Message);
    }

    [Fact]
    public async Task Deploy_WhenTheClusterHangs_FailsAfterTheRetries_SayingTheClusterDidNotAnswer()
    {
        (_h.Emulator.Faults.PathContains, _h.Emulator.Faults.Method) = ApplyCall;
        _h.Emulator.Faults.HangFor = TimeSpan.FromMinutes(5);
        _h.Emulator.Faults.HangRate = 1;

        var done = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-2")).Id, TimeSpan.FromSeconds(60));

        Assert.Equal(DeploymentState.Failed, done.State);
        Assert.StartsWith("The cluster did not answer after several tries", done.FailureReason);
        Assert.Equal(StepState.Failed, done.Steps.Single(s => s.Name == StepName.Apply).State);
    }

    [Fact]
    public async Task Deploy_WhenTheClusterRefusesPermanently_FailsAtOnce_WithItsMessage()
    {
        _h.Emulator.Faults.PathContains = ApplyCall.Path;
        _h.Emulator.Faults.FailNext(1, 403);

        var queued = await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-2");
        var done = await _h.WaitFinishedAsync(queued.Id);

        Assert.Equal(DeploymentState.Failed, done.State);
        Assert.StartsWith("The cluster refused", done.FailureReason);
        Assert.Equal(StepState.Failed, done.Steps.Single(s => s.Name == StepName.Apply).State);
    }

    [Fact]
    public async Task Deploy_BadRequests_AreRefusedWithAReason_AndQueueNothing()
    {
        var deployments = _h.Service<DeploymentService>(out var scope);
        using (scope)
        {
            var qa1 = await _h.SlotIdAsync("qa-1");
            var asViewer = await deployments.CreateAsync(TestUsers.Viewer, new DeployRequest("payments", "main", qa1, "look"));
            var unknownApp = await deployments.CreateAsync(TestUsers.Dana, new DeployRequest("nope", "main", qa1, "x"));
            var unknownBranch = await deployments.CreateAsync(TestUsers.Dana, new DeployRequest("payments", "zzz\";echo${IFS}hi;#", qa1, "x"));
            var optionBranch = await deployments.CreateAsync(TestUsers.Dana, new DeployRequest("payments", "--upload-pack=x", qa1, "x"));
            var noPurpose = await deployments.CreateAsync(TestUsers.Dana, new DeployRequest("payments", "main", qa1, " "));

            Assert.Equal(FailureKind.Forbidden, asViewer.Failure?.Kind);
            Assert.Equal(FailureKind.Invalid, unknownApp.Failure?.Kind);
            Assert.Equal(FailureKind.Invalid, unknownBranch.Failure?.Kind);
            Assert.Contains("has no branch called", unknownBranch.Failure!.Message);
            Assert.Equal(FailureKind.Invalid, optionBranch.Failure?.Kind);
            Assert.Equal(FailureKind.Invalid, noPurpose.Failure?.Kind);
        }

        await using var db = _h.Database.Factory.CreateDbContext();
        Assert.Equal(0, await db.Deployments.CountAsync());
        Assert.Equal(0, await db.Holds.CountAsync());
    }

    [Fact]
    public async Task Deploy_IntoASlotSomeoneElseHolds_IsRefused_ButAnAdminMay()
    {
        var first = await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-3", "payment test");
        await _h.WaitFinishedAsync(first.Id);

        var deployments = _h.Service<DeploymentService>(out var scope);
        using (scope)
        {
            var asDevon = await deployments.CreateAsync(TestUsers.Devon, new DeployRequest("payments", "feature/login", await _h.SlotIdAsync("qa-3"), "mine now"));
            Assert.Equal(FailureKind.Conflict, asDevon.Failure?.Kind);
            Assert.Contains("held by Dana Developer (payment test)", asDevon.Failure!.Message);
        }

        var asAdmin = await _h.DeployAsync(TestUsers.Ada, "payments", "feature/login", "qa-3");
        Assert.Equal(first.HoldId, asAdmin.HoldId);
    }

    [Fact]
    public async Task Deployments_OfOneAppIntoOneSlot_RunOneAtATime_InRequestOrder()
    {
        var first = await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-4", "ordering");
        var qa4 = await _h.SlotIdAsync("qa-4");
        var deployments = _h.Service<DeploymentService>(out var scope);
        DeploymentView[] more;
        using (scope)
        {
            var requests = await Task.WhenAll(DeployHarness.Branches.Select(b => deployments.CreateAsync(TestUsers.Dana, new DeployRequest("payments", b, qa4))));
            Assert.All(requests, r => Assert.True(r.Succeeded, r.Failure?.Message));
            more = [.. requests.Select(r => r.Value!)];
        }

        var done = new List<DeploymentView> { await _h.WaitFinishedAsync(first.Id, TimeSpan.FromSeconds(60)) };
        foreach (var d in more.OrderBy(d => d.Id))
        {
            done.Add(await _h.WaitFinishedAsync(d.Id, TimeSpan.FromSeconds(60)));
        }

        // main again is the same request as the first while that one still waits, and then answers with it.
        var ordered = done.DistinctBy(d => d.Id).OrderBy(d => d.Id).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i].StartedAt >= ordered[i - 1].FinishedAt,
                $"#{ordered[i].Id} started at {ordered[i].StartedAt:O} before #{ordered[i - 1].Id} finished at {ordered[i - 1].FinishedAt:O}");
        }

        var last = ordered[^1];
        var live = await _h.Kubernetes.AppsV1.ReadNamespacedDeploymentAsync("payments", "qa-4");
        Assert.Equal(last.Image, live.Spec.Template.Spec.Containers[0].Image);
    }

    [Fact]
    public async Task Redeploy_OfAnEarlierDeployment_RunsItsCommitAndImageAgain()
    {
        var first = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-1")).Id);
        var second = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "payments", "feature/payment", "qa-1")).Id);
        Assert.Equal(DeploymentState.Succeeded, second.State);
        Assert.NotEqual(first.Image, second.Image);

        DeploymentView again;
        var deployments = _h.Service<DeploymentService>(out var scope);
        using (scope)
        {
            var redeploy = await deployments.RedeployAsync(TestUsers.Dana, first.Id);
            Assert.True(redeploy.Succeeded, redeploy.Failure?.Message);
            again = await _h.WaitFinishedAsync(redeploy.Value!.Id);
        }

        Assert.True(again.State == DeploymentState.Succeeded, again.FailureReason);
        Assert.Equal((first.Branch, first.Commit, first.Image), (again.Branch, again.Commit, again.Image));
        var live = await _h.Kubernetes.AppsV1.ReadNamespacedDeploymentAsync("payments", "qa-1");
        Assert.Equal(first.Image, live.Spec.Template.Spec.Containers[0].Image);
        Assert.Equal(again.Id.ToString(), live.Metadata.Labels["deployportal.io/deployment"]);
    }

    [Fact]
    public async Task Cancel_QueuedAndRunningDeployments_EndCancelled()
    {
        _h.Emulator.Options.ReadyDelay = TimeSpan.FromSeconds(30);
        var running = await _h.DeployAsync(TestUsers.Dana, "payments", "main", "qa-1", "cancel test");
        await _h.WaitForAsync(running.Id, d => d.Steps.Any(s => s.Name == StepName.Rollout));
        var waiting = await _h.DeployAsync(TestUsers.Dana, "payments", "feature/login", "qa-1");
        Assert.Equal(DeploymentState.Queued, waiting.State);

        var deployments = _h.Service<DeploymentService>(out var scope);
        using (scope)
        {
            Assert.Equal(FailureKind.Forbidden, (await deployments.CancelAsync(TestUsers.Devon, running.Id)).Failure?.Kind);
            Assert.Equal(DeploymentState.Cancelled, (await deployments.CancelAsync(TestUsers.Dana, waiting.Id)).Value);
            Assert.True((await deployments.CancelAsync(TestUsers.Dana, running.Id)).Succeeded);
        }

        var cancelled = await _h.WaitFinishedAsync(running.Id);
        Assert.Equal(DeploymentState.Cancelled, cancelled.State);
        Assert.Equal(DeploymentState.Cancelled, (await _h.WaitFinishedAsync(waiting.Id)).State);
    }

    [Fact]
    public async Task Release_RemovesWhatTheHoldDeployed_AndTheSlotBecomesClean()
    {
        var done = await _h.WaitFinishedAsync((await _h.DeployAsync(TestUsers.Dana, "storefront", "main", "qa-2", "release test")).Id);
        Assert.Equal(DeploymentState.Succeeded, done.State);

        var slots = _h.Service<HoldActions>(out var scope);
        using (scope)
        {
            var released = await slots.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(done.SlotId, done.HoldId!.Value, QaOutcome.Pass));
            Assert.True(released.Succeeded, released.Failure?.Message);
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while ((await BoardAsync()).Single(s => s.Name == "qa-2").Cleaning)
        {
            await Task.Delay(50, deadline.Token); // bounded poll of the board, not a fixed wait
        }

        Assert.Empty((await _h.Kubernetes.AppsV1.ListNamespacedDeploymentAsync("qa-2")).Items);
        Assert.Empty((await _h.Kubernetes.CoreV1.ListNamespacedServiceAsync("qa-2")).Items);
        Assert.Empty((await _h.Kubernetes.NetworkingV1.ListNamespacedIngressAsync("qa-2")).Items);
    }

    [Theory]
    [InlineData("release")]
    [InlineData("qa-done")]
    [InlineData("force")]
    public async Task Release_DuringARollout_EndsTheDeploymentCancelled_NotFailedWithTheClusters404(string how)
    {
        _h.Emulator.Options.ReadyDelay = TimeSpan.FromSeconds(30); // the rollout is still running when the slot is released
        var running = await _h.DeployAsync(TestUsers.Dana, "storefront", "main", "qa-2", "release during rollout");
        await _h.WaitForAsync(running.Id, d => d.Steps.Any(s => s.Name == StepName.Rollout && s.State == StepState.Running));

        var slots = _h.Service<HoldActions>(out var scope);
        using (scope)
        {
            var released = how switch
            {
                "release" => await slots.ReleaseAsync(TestUsers.Dana, new ReleaseRequest(running.SlotId, running.HoldId!.Value, null)),
                "qa-done" => await slots.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(running.SlotId, running.HoldId!.Value, QaOutcome.Pass)),
                _ => await slots.ReleaseAsync(TestUsers.Ada, new ReleaseRequest(running.SlotId, running.HoldId!.Value, null)),
            };
            Assert.True(released.Succeeded, released.Failure?.Message);
        }

        var done = await _h.WaitFinishedAsync(running.Id);
        Assert.Equal(DeploymentState.Cancelled, done.State);
        Assert.Equal("Cancelled: the slot was released.", done.FailureReason);
        Assert.DoesNotContain(done.Steps, s => s.Message.Contains("not found", StringComparison.OrdinalIgnoreCase));
        await using var db = _h.Database.Factory.CreateDbContext();
        Assert.Equal(0, await db.Deployments.CountAsync(d => d.State == DeploymentState.Failed));
    }

    [Fact]
    public async Task Deploy_WhenThePortalDiesMidRollout_ANewPortalFinishesIt_ExactlyOnceInEffect()
    {
        _h.Emulator.Options.ReadyDelay = TimeSpan.FromSeconds(2);
        var first = _h.Host;
        var queued = await _h.DeployAsync(TestUsers.Dana, "payments", "feature/payment", "qa-3", "crash test");
        await _h.WaitForAsync(queued.Id, d => d.Steps.Any(s => s.Name == StepName.Rollout && s.State == StepState.Running));

        await _h.StopHostAsync(first); // the process goes away mid-rollout (its in-memory job storage with it)
        _h.Emulator.Options.ReadyDelay = TimeSpan.FromMilliseconds(150);
        _h.StartHost();

        var done = await _h.WaitFinishedAsync(queued.Id, TimeSpan.FromSeconds(40));
        Assert.Equal(DeploymentState.Succeeded, done.State);
        await using var db = _h.Database.Factory.CreateDbContext();
        var row = await db.Deployments.Include(d => d.Steps).SingleAsync(d => d.Id == queued.Id);
        Assert.Equal(2, row.Attempts);
        Assert.Equal(4, row.Steps.Count);
        Assert.Single((await _h.Kubernetes.AppsV1.ListNamespacedDeploymentAsync("qa-3")).Items);
    }

    private async Task<IReadOnlyList<SlotCard>> BoardAsync()
    {
        var board = _h.Service<BoardQueries>(out var scope);
        using (scope)
        {
            return await board.GetBoardAsync();
        }
    }
}

/// <summary>The pipeline when the portal applies the objects itself (<c>Deployments:Mode</c> = <c>Direct</c>).</summary>
public sealed class DirectDeploymentPipelineTests : DeploymentPipelineTests
{
    protected override bool GitOps => false;
}

/// <summary>The pipeline when the portal commits the objects and Argo CD (the emulator's controller) applies them.</summary>
public sealed class GitOpsDeploymentPipelineTests : DeploymentPipelineTests
{
    protected override bool GitOps => true;
}

/// <summary>The same pipeline on PostgreSQL with Hangfire.PostgreSql (LISTEN/NOTIFY long polling).</summary>
public sealed class PostgresDeploymentPipelineTests : IAsyncLifetime
{
    private DeployHarness _h = default!;

    public async Task InitializeAsync() => _h = await DeployHarness.CreateAsync(DatabaseProvider.Postgres);

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Deploy_OnPostgres_Succeeds_AndACrashingBranchFails()
    {
        var good = await _h.DeployAsync(TestUsers.Dana, "storefront", "main", "qa-1", "pg test");
        var bad = await _h.DeployAsync(TestUsers.Devon, "payments", "crash-on-start", "qa-2", "pg crash test");

        Assert.Equal(DeploymentState.Succeeded, (await _h.WaitFinishedAsync(good.Id)).State);
        Assert.Equal(DeploymentState.Failed, (await _h.WaitFinishedAsync(bad.Id)).State);
    }
}

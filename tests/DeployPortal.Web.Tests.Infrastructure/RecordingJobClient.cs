using System.Collections.Concurrent;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// Records the jobs a service enqueues without running them, for tests of one service. (Hangfire's own
/// storages log through a process-wide provider that a disposed test host leaves behind.)
/// </summary>
public sealed class RecordingJobClient : IBackgroundJobClient
{
    private int _next;

    public ConcurrentQueue<Job> Jobs { get; } = new();

    public string Create(Job job, IState state)
    {
        Jobs.Enqueue(job);
        return Interlocked.Increment(ref _next).ToString();
    }

    public bool ChangeState(string jobId, IState state, string expectedState) => true;
}

using System.Net;

namespace DeployPortal.Web.Cluster;

/// <summary>The cluster refused something for a reason a person must fix (not worth retrying).</summary>
internal sealed class ClusterRejectedException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The API server's status code when it answered (404 tells a log follower the pod is gone).</summary>
    public HttpStatusCode? StatusCode { get; init; }
}

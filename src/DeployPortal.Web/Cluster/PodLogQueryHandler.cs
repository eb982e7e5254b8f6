namespace DeployPortal.Web.Cluster;

/// <summary>
/// KubernetesClient 21's generated <c>ReadNamespacedPodLog</c> has no <c>sinceTime</c> parameter (the API
/// server's OpenAPI document omits it), yet resuming a follow without a gap or a duplicate needs it: sinceSeconds
/// is whole seconds. The gateway passes the value as a private header that this handler turns into the
/// query parameter, so the request still goes through the one client, its credentials and its TLS settings.
/// </summary>
internal sealed class PodLogQueryHandler : DelegatingHandler
{
    public const string SinceTimeHeader = "X-DeployPortal-SinceTime";

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.TryGetValues(SinceTimeHeader, out var values) && request.RequestUri is { } uri)
        {
            request.Headers.Remove(SinceTimeHeader);
            var since = Uri.EscapeDataString(values.First());
            var builder = new UriBuilder(uri);
            builder.Query = string.IsNullOrEmpty(builder.Query) ? $"sinceTime={since}" : $"{builder.Query.TrimStart('?')}&sinceTime={since}";
            request.RequestUri = builder.Uri;
        }

        return base.SendAsync(request, cancellationToken);
    }
}

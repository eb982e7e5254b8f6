using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using DeployPortal.Web.Api;
using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Registry;

/// <summary>The distribution registry's notification envelope (<c>application/vnd.docker.distribution.events.v1+json</c>), the parts the portal reads.</summary>
internal sealed record RegistryEnvelope([property: JsonPropertyName("events")] IReadOnlyList<RegistryEvent>? Events);

internal sealed record RegistryEvent(
    [property: JsonPropertyName("action")] string? Action,
    [property: JsonPropertyName("target")] RegistryEventTarget? Target);

internal sealed record RegistryEventTarget(
    [property: JsonPropertyName("repository")] string? Repository,
    [property: JsonPropertyName("tag")] string? Tag,
    [property: JsonPropertyName("digest")] string? Digest,
    [property: JsonPropertyName("mediaType")] string? MediaType);

/// <summary>What the portal did with one envelope: how many events it read, how many were pushes of a tag, how many deployments started.</summary>
internal sealed record RegistryEventsAnswer(int Events, int TagPushes, int Started);

/// <summary>
/// <c>POST /api/v1/registry/events</c>: the registry's push notifications (its <c>notifications.endpoints</c>) start the
/// deployments waiting for the pushed tag at once, instead of at their next check. The registry is no portal user: it
/// proves itself with <c>Authorization: Bearer {Registry:EventsToken}</c>, compared in constant time; without that
/// setting the endpoint does not exist (404).
/// </summary>
internal static class RegistryEvents
{
    public const string MediaType = "application/vnd.docker.distribution.events.v1+json";
    private const int MaxBody = 1024 * 1024;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static RouteGroupBuilder MapRegistryEvents(this RouteGroupBuilder api)
    {
        api.MapPost("/registry/events", ReceiveAsync)
            .AllowAnonymous() // the shared secret below, not a personal access token
            .DisableRateLimiting() // a registry sends one envelope per push burst; a wrong secret still counts as a failed sign-in
            .WithTags("Registry").WithName("RegistryEvents")
            .WithSummary("The registry's push notifications (distribution's envelope); a push of an awaited tag starts its deployment at once. Authorization: Bearer {Registry:EventsToken}.")
            .Produces<RegistryEventsAnswer>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(415);
        return api;
    }

    private static async Task<IResult> ReceiveAsync(HttpRequest request, IOptionsMonitor<RegistryOptions> options, ImageWait wait, CancellationToken ct)
    {
        if (options.CurrentValue.EventsToken is not { Length: > 0 } token)
        {
            return ApiResults.Problem(Fail.NotFound("Registry events are off: set Registry:EventsToken to receive them."));
        }

        if (!SameSecret(request.Headers.Authorization.ToString(), "Bearer " + token))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: "Send the shared secret of Registry:EventsToken as Authorization: Bearer ….");
        }

        var type = request.ContentType?.Split(';')[0].Trim();
        if (type is not (MediaType or "application/json"))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: $"Send the registry's envelope as {MediaType}.");
        }

        if (request.ContentLength > MaxBody)
        {
            return ApiResults.Problem(Fail.Invalid($"The envelope is larger than {MaxBody / 1024} KiB."));
        }

        RegistryEnvelope? envelope;
        try
        {
            envelope = await JsonSerializer.DeserializeAsync<RegistryEnvelope>(request.Body, Json, ct);
        }
        catch (JsonException ex)
        {
            return ApiResults.Problem(Fail.Invalid($"The body is not the registry's event envelope: {ex.Message}"));
        }

        if (envelope?.Events is not { } events)
        {
            return ApiResults.Problem(Fail.Invalid("The body is not the registry's event envelope: it has no \"events\" list."));
        }

        // Layer uploads are pushes too; only a manifest pushed under a tag can be what a deployment waits for.
        var pushes = events.Where(e => e.Action == "push" && e.Target is { Repository.Length: > 0, Tag.Length: > 0 })
            .Select(e => (e.Target!.Repository!, e.Target.Tag!)).Distinct().ToList();
        var started = 0;
        foreach (var (repository, tag) in pushes)
        {
            started += await wait.PushedAsync(repository, tag, ct);
        }

        return TypedResults.Ok(new RegistryEventsAnswer(events.Count, pushes.Count, started));
    }

    /// <summary>Compares hashes, so neither the content nor the length of the secret shows in the time taken.</summary>
    private static bool SameSecret(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}

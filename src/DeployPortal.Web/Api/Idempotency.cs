using System.Security.Cryptography;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Api;

/// <summary>
/// The answer to one POST that carried an <c>Idempotency-Key</c>, kept for <see cref="IdempotencyFilter.Lifetime"/>
/// so a retry gets the same answer instead of doing the work again. <see cref="Status"/> is null while the first
/// request is still being answered.
/// </summary>
public sealed class IdempotencyRecord
{
    public long Id { get; set; }
    public required string OwnerId { get; set; }
    public required string Key { get; set; }
    /// <summary>Hex SHA-256 of method, path and body: the same key with another request is refused.</summary>
    public required string RequestHash { get; set; }
    public DateTime CreatedAt { get; set; }
    public int? Status { get; set; }
    public string? ContentType { get; set; }
    public string? Location { get; set; }
    public string? Body { get; set; }
}

/// <summary>
/// <c>Idempotency-Key</c> on the API's POSTs (draft-ietf-httpapi-idempotency-key-header): the first request with a
/// key is recorded before it runs (the unique index on owner and key decides between concurrent ones), its answer
/// is stored, and a repeat with the same key and body gets that answer again with <c>Idempotent-Replayed: true</c>.
/// The same key with another body is 422; a repeat while the first still runs is 409 with Retry-After. Answers of 5xx
/// are not kept, so a retry after an outage does the work. Hand-written: ASP.NET Core's output cache skips POSTs
/// and cannot make concurrent requests wait on the database's decision.
/// </summary>
internal static class IdempotencyFilter
{
    public const string Header = "Idempotency-Key";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    // A record still unanswered after this was left by a process that died; a retry may take it over.
    private static readonly TimeSpan Abandoned = TimeSpan.FromMinutes(2);

    public static RouteGroupBuilder WithIdempotencyKeys(this RouteGroupBuilder api)
    {
        api.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (!HttpMethods.IsPost(http.Request.Method) || !http.Request.Headers.TryGetValue(Header, out var values))
            {
                return await next(context);
            }

            var key = values.ToString();
            if (key.Length is 0 or > 200 || key.Any(c => c is < '!' or > '~'))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The request was refused",
                    detail: $"{Header}: expected 1 to 200 visible ASCII characters, e.g. a UUID.");
            }

            var owner = http.User.FindFirst(PortalClaims.Subject)?.Value ?? "";
            var hash = await HashAsync(http);
            var clock = http.RequestServices.GetRequiredService<TimeProvider>();
            var dbFactory = http.RequestServices.GetRequiredService<IDbContextFactory<PortalDb>>();
            var now = clock.GetUtcNow().UtcDateTime;
            await using var db = dbFactory.CreateDbContext();
            var record = await db.IdempotencyRecords.FirstOrDefaultAsync(r => r.OwnerId == owner && r.Key == key, http.RequestAborted);
            if (record is not null && (record.CreatedAt <= now - Lifetime || (record.Status is null && record.CreatedAt <= now - Abandoned)))
            {
                // Expired, or left unanswered by a process that died: this request starts afresh.
                await db.IdempotencyRecords.Where(r => r.Id == record.Id && r.CreatedAt == record.CreatedAt).ExecuteDeleteAsync(http.RequestAborted);
                record = null;
            }

            if (record is null)
            {
                record = new IdempotencyRecord { OwnerId = owner, Key = key, RequestHash = hash, CreatedAt = now };
                db.IdempotencyRecords.Add(record);
                try
                {
                    await db.SaveChangesAsync(http.RequestAborted);
                }
                catch (DbUpdateException ex) when (ex.IsUniqueViolation())
                {
                    db.ChangeTracker.Clear();
                    record = await db.IdempotencyRecords.AsNoTracking().FirstAsync(r => r.OwnerId == owner && r.Key == key, http.RequestAborted);
                    return Repeat(http, record, hash);
                }

                return await RunAndKeepAsync(context, next, db, record);
            }

            return Repeat(http, record, hash);
        });
        return api;
    }

    private static IResult Repeat(HttpContext http, IdempotencyRecord record, string hash)
    {
        if (record.RequestHash != hash)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "The key was used for another request",
                detail: $"This {Header} was already used for a different request in the last {Lifetime.TotalHours:0} hours. Use a new key for a new request.");
        }

        if (record.Status is not { } status)
        {
            http.Response.Headers.RetryAfter = "1";
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Still being answered",
                detail: $"The first request with this {Header} is still being answered. Retry in a moment to get its answer.");
        }

        http.Response.Headers["Idempotent-Replayed"] = "true";
        if (record.Location is not null)
        {
            http.Response.Headers.Location = record.Location;
        }

        return Results.Content(record.Body, record.ContentType, statusCode: status);
    }

    /// <summary>Runs the endpoint, writes its answer while keeping a copy, and stores the copy (or lets the key go on a 5xx).</summary>
    private static async Task<object?> RunAndKeepAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, PortalDb db, IdempotencyRecord record)
    {
        var http = context.HttpContext;
        var original = http.Response.Body;
        using var copy = new MemoryStream();
        http.Response.Body = copy;
        try
        {
            var result = await next(context);
            if (result is IResult answer)
            {
                await answer.ExecuteAsync(http);
            }
            else if (result is not null)
            {
                await http.Response.WriteAsJsonAsync(result, http.RequestAborted);
            }
        }
        catch
        {
            await ForgetAsync(db, record);
            throw;
        }
        finally
        {
            http.Response.Body = original;
        }

        if (http.Response.StatusCode >= 500)
        {
            await ForgetAsync(db, record);
        }
        else
        {
            record.Status = http.Response.StatusCode;
            record.ContentType = http.Response.ContentType;
            record.Location = http.Response.Headers.Location.ToString() is { Length: > 0 } location ? location : null;
            record.Body = System.Text.Encoding.UTF8.GetString(copy.GetBuffer(), 0, (int)copy.Length);
            await db.SaveChangesAsync(CancellationToken.None);
            // Keys of every caller expire together; the index on CreatedAt keeps this cheap.
            var expired = record.CreatedAt - Lifetime;
            await db.IdempotencyRecords.Where(r => r.CreatedAt < expired).ExecuteDeleteAsync(CancellationToken.None);
        }

        copy.Position = 0;
        await copy.CopyToAsync(original, http.RequestAborted);
        return Results.Empty;
    }

    private static async Task ForgetAsync(PortalDb db, IdempotencyRecord record)
    {
        try
        {
            await db.IdempotencyRecords.Where(r => r.Id == record.Id).ExecuteDeleteAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ApiExceptionHandler.IsDatabaseOutage(ex))
        {
            // The database is away; the record lapses as abandoned and a retry takes it over.
        }
    }

    private static async Task<string> HashAsync(HttpContext http)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{http.Request.Method} {http.Request.Path}\n"));
        if (http.Request.Body.CanSeek)
        {
            // ApiRequestBody buffered the body; the endpoint has read it, so rewind, hash and leave it at its end.
            var position = http.Request.Body.Position;
            http.Request.Body.Position = 0;
            var buffer = new byte[8192];
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
            {
                sha.AppendData(buffer, 0, read);
            }

            http.Request.Body.Position = position;
        }

        return Convert.ToHexString(sha.GetHashAndReset());
    }
}

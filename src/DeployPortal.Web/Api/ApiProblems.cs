using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DeployPortal.Web.Api;

/// <summary>
/// What the API answers when a request cannot be read or the server fails: problem details naming the field and
/// what it expects, or 503 when the database is away. Never an exception's name, message or stack trace, in any
/// environment: those go to the log.
/// </summary>
internal sealed partial class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Seconds a client should wait before retrying while the database does not answer.</summary>
    public const int DatabaseRetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var api = http.Request.Path.StartsWithSegments("/api");
        if (exception is BadHttpRequestException bad)
        {
            // Anywhere, not only under /api: the request was bad, so it is a 4xx with a sentence, never the error page's 500.
            logger.LogDebug(exception, "Refused a request that could not be read");
            var (detail, field) = Describe(http, bad);
            return await WriteAsync(http, bad.StatusCode, "The request was refused", detail, field);
        }

        if (!api)
        {
            return false; // the pages' own error page
        }

        if (IsDatabaseOutage(exception))
        {
            logger.LogWarning("The database did not answer {Method} {Path}: {Error}", http.Request.Method, http.Request.Path, exception.Message);
            http.Response.Headers.RetryAfter = DatabaseRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return await WriteAsync(http, StatusCodes.Status503ServiceUnavailable, "The database did not answer",
                $"The database did not answer; nothing was changed. Retry in {DatabaseRetryAfterSeconds} seconds.", null);
        }

        logger.LogError(exception, "The API failed on {Method} {Path}", http.Request.Method, http.Request.Path);
        return await WriteAsync(http, StatusCodes.Status500InternalServerError, "The portal failed",
            $"The portal failed to answer this request; the error is in its log under trace id {http.TraceIdentifier}.", null);
    }

    /// <summary>
    /// True when the exception (or one it wraps) says the database could not be reached or dropped the connection,
    /// as opposed to a refusal of what was sent (a constraint, a bad value), which is a bug or a 4xx.
    /// </summary>
    internal static bool IsDatabaseOutage(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // Class 08: connection exceptions; 57P01-57P03: the server is shutting down or starting; 53300: too many connections.
                case PostgresException pg:
                    return pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is "57P01" or "57P02" or "57P03" or "53300";
                // Not a server error: opening, reading or writing the connection failed.
                case NpgsqlException:
                    return true;
                // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_CANTOPEN.
                case SqliteException sqlite:
                    return sqlite.SqliteErrorCode is 5 or 6 or 10 or 14;
                case SocketException or TimeoutException:
                    return true;
            }
        }

        return false;
    }

    private async ValueTask<bool> WriteAsync(HttpContext http, int status, string title, string detail, string? field)
    {
        http.Response.StatusCode = status;
        var context = new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        };
        if (field is not null)
        {
            context.ProblemDetails.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [detail] };
        }

        return await problems.TryWriteAsync(context);
    }

    /// <summary>A sentence for a request the framework could not bind, and the field it names (null for the body as a whole).</summary>
    private static (string Detail, string? Field) Describe(HttpContext http, BadHttpRequestException bad)
    {
        if (bad.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            return ("Send the body as JSON, with the header Content-Type: application/json.", null);
        }

        if (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (TooLarge, null);
        }

        // The handler runs with the endpoint cleared; the feature keeps the one that failed.
        var requestType = http.Features.Get<IExceptionHandlerFeature>()?.Endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
        if (bad.InnerException is JsonException json && requestType is not null)
        {
            // The body was read as JSON before (ApiRequestBody), so what is left is a value of the wrong kind.
            var name = json.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            var property = name is null ? null : requestType.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            return property is null
                ? ($"The body must be a JSON object with the fields {Fields(requestType)}.", null)
                : ($"{name}: expected {Expected(property.PropertyType)}.", name);
        }

        if (BindFailure().Match(bad.Message) is { Success: true } failed)
        {
            var name = failed.Groups["name"].Value;
            return ($"{name}: expected {Expected(failed.Groups["type"].Value)}, not \"{Shorten(failed.Groups["value"].Value)}\".", name);
        }

        if (requestType is not null && http.Request.ContentLength is null or 0 && !http.Request.Headers.TransferEncoding.Any())
        {
            return ($"Send a JSON object in the body with the fields {Fields(requestType)}.", null);
        }

        return ("The request could not be read. The reference at /api/docs shows what each endpoint expects.", null);
    }

    internal const string TooLarge = "The body can be at most 64 KB.";

    private static string Fields(Type type) =>
        string.Join(", ", type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => $"{JsonNamingPolicy.CamelCase.ConvertName(p.Name)} ({Expected(p.PropertyType)})"));

    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum)
        {
            return "one of " + string.Join(", ", Enum.GetNames(type).Select(n => $"\"{n}\""));
        }

        return type switch
        {
            _ when type == typeof(string) => "text in quotes",
            _ when type == typeof(TimeSpan) => "a duration in quotes as hh:mm:ss, e.g. \"02:00:00\"",
            _ when type == typeof(DateTime) || type == typeof(DateTimeOffset) => "a time in quotes in ISO 8601, e.g. \"2026-12-04T18:00:00Z\"",
            _ when type == typeof(int) || type == typeof(long) => "a whole number",
            _ when type == typeof(bool) => "true or false",
            _ => "a value of type " + type.Name,
        };
    }

    /// <summary>The framework's route and query binding failure names the parameter's C# type ("Nullable&lt;int&gt; take", "bool refresh").</summary>
    private static string Expected(string csharpType) => csharpType.Replace("Nullable<", "", StringComparison.Ordinal).TrimEnd('?', '>') switch
    {
        "int" or "long" or "Int32" or "Int64" => "a whole number",
        "bool" or "Boolean" => "true or false",
        _ => "a value of type " + csharpType,
    };

    private static string Shorten(string value) => value.Length > 40 ? value[..40] + "…" : value;

    [GeneratedRegex("""^Failed to bind parameter "(?<type>[^ "]+) (?<name>[A-Za-z0-9_]+)" from "(?<value>.*)"\.$""", RegexOptions.Singleline)]
    private static partial Regex BindFailure();
}

/// <summary>
/// Reads an API request's body before anything binds it: at most <see cref="MaxBytes"/>, and, when it says it is
/// JSON, valid UTF-8, well-formed and without repeated property names. Each refusal says where the body went wrong.
/// The buffered body stays readable for the endpoint.
/// </summary>
internal static class ApiRequestBody
{
    public const int MaxBytes = 64 * 1024;

    /// <summary>Null when the body may go on to the endpoint; otherwise the refusal's status and sentence.</summary>
    public static async Task<(int Status, string Detail)?> CheckAsync(HttpContext http)
    {
        var request = http.Request;
        if (request.ContentLength is null or 0 && !request.Headers.TransferEncoding.Any())
        {
            return null;
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBytes;
        }

        if (request.ContentLength > MaxBytes)
        {
            return (StatusCodes.Status413PayloadTooLarge, ApiExceptionHandler.TooLarge);
        }

        request.EnableBuffering(MaxBytes);
        byte[] body;
        try
        {
            using var copy = new MemoryStream();
            await request.Body.CopyToAsync(copy, http.RequestAborted);
            body = copy.ToArray();
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (StatusCodes.Status413PayloadTooLarge, ApiExceptionHandler.TooLarge);
        }

        request.Body.Position = 0;
        if (!request.HasJsonContentType())
        {
            return null; // the endpoint answers 415
        }

        if (!Utf8.IsValid(body))
        {
            return (StatusCodes.Status400BadRequest, $"The body is not valid UTF-8: byte {FirstInvalidByte(body) + 1} is not part of a UTF-8 character.");
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return Repeated(document.RootElement, "") is { } repeated
                ? (StatusCodes.Status400BadRequest, $"{repeated}: appears more than once in the body; send each field once.")
                : null;
        }
        catch (JsonException ex)
        {
            return (StatusCodes.Status400BadRequest,
                $"The body is not valid JSON: it breaks off or has a syntax error at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}.");
        }
    }

    private static int FirstInvalidByte(byte[] body)
    {
        var offset = 0;
        while (offset < body.Length && System.Text.Rune.DecodeFromUtf8(body.AsSpan(offset), out _, out var consumed) == System.Buffers.OperationStatus.Done)
        {
            offset += consumed;
        }

        return offset;
    }

    /// <summary>The path of the first property name repeated within one object, or null.</summary>
    private static string? Repeated(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    var name = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                    if (!seen.Add(property.Name))
                    {
                        return name;
                    }

                    if (Repeated(property.Value, name) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Repeated(item, $"{path}[{index++}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                return null;
        }
    }
}

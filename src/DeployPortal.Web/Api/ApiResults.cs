using DeployPortal.Web.Common;

namespace DeployPortal.Web.Api;

/// <summary>Turns a service's <see cref="Result{T}"/> into an HTTP answer: the value, or problem details.</summary>
internal static class ApiResults
{
    public static IResult From<T>(Result<T> result, Func<T, IResult> ok) =>
        result.Succeeded ? ok(result.Value!) : Problem(result.Failure!);

    public static IResult Problem(Failure failure)
    {
        var (status, title) = failure.Kind switch
        {
            FailureKind.Invalid => (StatusCodes.Status400BadRequest, "The request was refused"),
            FailureKind.Forbidden => (StatusCodes.Status403Forbidden, "Forbidden"),
            FailureKind.NotFound => (StatusCodes.Status404NotFound, "Not found"),
            FailureKind.Conflict => (StatusCodes.Status409Conflict, "Conflict"),
            _ => (StatusCodes.Status500InternalServerError, "Error"),
        };
        return TypedResults.Problem(detail: failure.Message, statusCode: status, title: title);
    }
}

namespace DeployPortal.Web.Common;

/// <summary>Why an operation was refused; maps to an HTTP status in the API and a message on a page.</summary>
public enum FailureKind
{
    Invalid,
    Forbidden,
    NotFound,
    Conflict,
}

public sealed record Failure(FailureKind Kind, string Message);

/// <summary>
/// The outcome of a state-changing operation: a value, or a refusal a person can read.
/// Refusals are expected (bad input, lost races, missing rights), so they are values, not exceptions.
/// </summary>
internal sealed class Result<T>
{
    private Result(T? value, Failure? failure) => (Value, Failure) = (value, failure);

    public T? Value { get; }
    public Failure? Failure { get; }
    public bool Succeeded => Failure is null;

    public static Result<T> Ok(T value) => new(value, null);
    public static implicit operator Result<T>(Failure failure) => new(default, failure);
}

public static class Fail
{
    public static Failure Invalid(string message) => new(FailureKind.Invalid, message);
    public static Failure Forbidden(string message) => new(FailureKind.Forbidden, message);
    public static Failure NotFound(string message) => new(FailureKind.NotFound, message);
    public static Failure Conflict(string message) => new(FailureKind.Conflict, message);
}

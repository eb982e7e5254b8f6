using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Common;

/// <summary>
/// The rules of one settings section, written one per line in a feature's <c>IValidateOptions</c> class. Each broken
/// rule names its full key ("Idle:After must be positive."), and a portal with wrong settings stops at start listing
/// all of them at once. One field, one rule: combined conditions are where precedence slips hide.
/// </summary>
internal sealed class OptionRules(string section)
{
    private readonly List<string> _failures = [];

    public OptionRules Positive(string key, TimeSpan value) => Check(value > TimeSpan.Zero, $"{section}:{key} must be positive.");

    /// <summary>An optional duration: unset is fine, set means positive.</summary>
    public OptionRules Positive(string key, TimeSpan? value) => value is { } set ? Positive(key, set) : this;

    public OptionRules Positive(string key, int value) => Check(value > 0, $"{section}:{key} must be positive.");

    public OptionRules Positive(string key, int? value) => value is { } set ? Positive(key, set) : this;

    public OptionRules NotNegative(string key, TimeSpan value) => Check(value >= TimeSpan.Zero, $"{section}:{key} must not be negative.");

    public OptionRules NotNegative(string key, int value) => Check(value >= 0, $"{section}:{key} must not be negative.");

    public OptionRules Between(string key, TimeSpan value, TimeSpan min, TimeSpan max) =>
        Check(value >= min && value <= max, $"{section}:{key} must be between {min:c} and {max:c}.");

    public OptionRules Between(string key, int value, int min, int max) =>
        Check(value >= min && value <= max, $"{section}:{key} must be between {min} and {max}.");

    /// <summary>An absolute http(s) address; unset passes unless <paramref name="required"/>.</summary>
    public OptionRules HttpUrl(string key, Uri? value, bool required = false) =>
        Check(value is null ? !required : value is { IsAbsoluteUri: true, Scheme: "https" or "http" },
            $"{section}:{key} must be an absolute http(s) address.");

    /// <summary>A rule across fields, or with its own sentence; the message names the keys involved.</summary>
    public OptionRules Check(bool holds, string message)
    {
        if (!holds)
        {
            _failures.Add(message);
        }

        return this;
    }

    public ValidateOptionsResult Result() => _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);
}

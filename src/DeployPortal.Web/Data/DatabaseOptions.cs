using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Bound from the <c>Database</c> section.</summary>
internal sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary><c>Sqlite</c> (embedded default, a file in the data folder) or <c>Postgres</c>.</summary>
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Required for PostgreSQL; for SQLite, defaults to <c>deployportal.db</c> in the data folder.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Seed demo slots (qa-1 … qa-4) into an empty database. On by default for the embedded default.</summary>
    public bool SeedDemoSlots { get; set; } = true;
}

/// <summary>Bound from the <c>Portal</c> section.</summary>
public sealed class PortalOptions
{
    public const string Section = "Portal";

    /// <summary>Where the embedded default keeps its files (SQLite database, demo repository). Relative to the content root.</summary>
    public string DataPath { get; set; } = "data";
}

internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions o) => new OptionRules(DatabaseOptions.Section)
        .Check(o.Provider != DatabaseProvider.Postgres || !string.IsNullOrWhiteSpace(o.ConnectionString),
            "Database:ConnectionString is required when Database:Provider is Postgres.")
        .Result();
}

internal sealed class PortalOptionsValidator : IValidateOptions<PortalOptions>
{
    public ValidateOptionsResult Validate(string? name, PortalOptions o) => new OptionRules(PortalOptions.Section)
        .Check(!string.IsNullOrWhiteSpace(o.DataPath), "Portal:DataPath is required.")
        .Result();
}

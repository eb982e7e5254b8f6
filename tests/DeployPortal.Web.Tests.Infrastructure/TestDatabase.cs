using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// A fresh, migrated, empty portal database for one test class: a SQLite file in a temp folder, or a new
/// database on the throwaway PostgreSQL server that the test command starts.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string? _sqliteFolder;
    private readonly string? _postgresName;

    private TestDatabase(DatabaseProvider provider, string connectionString, IDbContextFactory<PortalDb> factory, string? sqliteFolder, string? postgresName)
    {
        Provider = provider;
        ConnectionString = connectionString;
        Factory = factory;
        _sqliteFolder = sqliteFolder;
        _postgresName = postgresName;
    }

    public DatabaseProvider Provider { get; }
    public string ConnectionString { get; }
    public IDbContextFactory<PortalDb> Factory { get; }

    public static async Task<TestDatabase> CreateAsync(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.Sqlite)
        {
            var folder = Directory.CreateTempSubdirectory("deployportal-test-").FullName;
            var cs = $"Data Source={Path.Combine(folder, "portal.db")}";
            var factory = new DataExtensions.PortalDbFactory<SqlitePortalDb>(
                new PooledDbContextFactory<SqlitePortalDb>(new DbContextOptionsBuilder<SqlitePortalDb>().UseSqlite(cs).Options));
            await MigrateAsync(factory);
            return new TestDatabase(provider, cs, factory, folder, null);
        }

        var name = "dp_" + Guid.NewGuid().ToString("N");
        await using (var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync();
        }

        var connectionString = new NpgsqlConnectionStringBuilder(PostgresServer.AdminConnectionString) { Database = name, MaxPoolSize = 120 }.ConnectionString;
        var pgFactory = new DataExtensions.PortalDbFactory<PostgresPortalDb>(
            new PooledDbContextFactory<PostgresPortalDb>(new DbContextOptionsBuilder<PostgresPortalDb>().UseNpgsql(connectionString).Options));
        await MigrateAsync(pgFactory);
        return new TestDatabase(provider, connectionString, pgFactory, null, name);
    }

    private static async Task MigrateAsync(IDbContextFactory<PortalDb> factory)
    {
        await using var db = factory.CreateDbContext();
        await db.Database.MigrateAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_sqliteFolder is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_sqliteFolder, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        if (_postgresName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_postgresName}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }
}

/// <summary>The throwaway PostgreSQL server started by <c>tests/run.sh</c>.</summary>
public static class PostgresServer
{
    public const string Variable = "DEPLOYPORTAL_TEST_POSTGRES";

    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                $"PostgreSQL tests need {Variable} (a connection string to a server where databases may be created). "
                + "Run the tests with tests/run.sh, which starts a throwaway server and sets it.");
}

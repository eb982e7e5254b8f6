using System.Globalization;
using Npgsql;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>
/// CPU time the PostgreSQL server used, read from <c>/proc</c>: the postmaster (found as the parent of a backend)
/// with the children it has reaped, plus every live child (backends, WAL writer, checkpointer, ...). Only on Linux
/// with the server on this machine, as <c>tests/bench.sh</c> runs it; otherwise <see cref="TryStartAsync"/> gives null.
/// </summary>
internal sealed class PostgresCpu
{
    // USER_HZ, the unit of the times in /proc/[pid]/stat: 100 on every Linux .NET runs on.
    private const double TicksPerSecond = 100;

    private readonly int _postmaster;
    private readonly double _start;

    private PostgresCpu(int postmaster)
    {
        _postmaster = postmaster;
        _start = Seconds();
    }

    public static async Task<PostgresCpu?> TryStartAsync(string connectionString)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
            var backend = (int)(await command.ExecuteScalarAsync())!;
            return Stat(backend) is { } stat ? new PostgresCpu(int.Parse(stat[1], CultureInfo.InvariantCulture)) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NpgsqlException or FormatException)
        {
            return null;
        }
    }

    /// <summary>CPU seconds used since <see cref="TryStartAsync"/>.</summary>
    public double Elapsed => Seconds() - _start;

    private double Seconds()
    {
        var self = Stat(_postmaster) ?? throw new InvalidOperationException($"PostgreSQL's postmaster (pid {_postmaster}) is gone.");
        // utime, stime, cutime, cstime: the postmaster's own time and that of the backends it has waited for.
        var ticks = Ticks(self, 11) + Ticks(self, 12) + Ticks(self, 13) + Ticks(self, 14);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var pid) || Stat(pid) is not { } stat
                || stat[1] != self[0])
            {
                continue;
            }

            ticks += Ticks(stat, 11) + Ticks(stat, 12);
        }

        return ticks / TicksPerSecond;
    }

    private static long Ticks(string[] stat, int index) => long.Parse(stat[index], CultureInfo.InvariantCulture);

    /// <summary>
    /// The fields of <c>/proc/[pid]/stat</c> without the command name and state: [0] pid, [1] ppid, and field
    /// n of proc(5) at [n - 3] from there on (utime [11], stime [12], cutime [13], cstime [14]).
    /// </summary>
    private static string[]? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // gone meanwhile, or not ours to read
        }

        // "pid (comm) state ppid pgrp ...": the command name may hold spaces and parentheses, so split after its last ')'.
        var rest = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return [pid.ToString(CultureInfo.InvariantCulture), .. rest[1..]];
    }
}

using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using DeployPortal.Web.Data;
using Npgsql;

namespace DeployPortal.Web.Slots;

public static class SlotChangeFanOutExtensions
{
    /// <summary>
    /// With PostgreSQL, several portal replicas share one database: their pages must hear each other's
    /// changes. SQLite is single-process by nature, so nothing is registered for it.
    /// </summary>
    public static WebApplicationBuilder AddSlotChangeFanOut(this WebApplicationBuilder builder)
    {
        var database = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        if (database.Provider == DatabaseProvider.Postgres && !string.IsNullOrWhiteSpace(database.ConnectionString))
        {
            builder.Services.AddSingleton(sp => new SlotChangeFanOut(
                database.ConnectionString, sp.GetRequiredService<SlotChangeNotifier>(), sp.GetRequiredService<ILogger<SlotChangeFanOut>>()));
            builder.Services.AddHostedService(sp => sp.GetRequiredService<SlotChangeFanOut>());
        }

        return builder;
    }
}

/// <summary>
/// PostgreSQL LISTEN/NOTIFY between portal replicas. Every change published on this replica is sent with
/// <c>NOTIFY</c> (after the change committed, since publishers publish after saving), tagged with this
/// process's origin id; a dedicated connection <c>LISTEN</c>s and republishes other replicas' changes to this
/// replica's pages, skipping its own. Notifications are not queued for a listener that is away, so after the
/// listening connection drops and comes back every page is told to reload (<see cref="SlotChange.Resync"/>).
/// Sending never blocks the publisher: changes go through an in-memory outbox.
/// </summary>
internal sealed class SlotChangeFanOut : BackgroundService
{
    public const string ChannelName = "deployportal_slot_changes";

    // A NOTIFY payload must stay under 8000 bytes; a change that would not fit is sent as "reload everything".
    private const int MaxPayloadBytes = 7900;
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(10);

    // A listener waits silently; a peer that vanished without closing the socket would leave it waiting
    // forever, so it asks the server something whenever nothing arrived for this long.
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(30);

    private readonly SlotChangeNotifier _notifier;
    private readonly ILogger<SlotChangeFanOut> _logger;
    private readonly NpgsqlDataSource _senders;
    private readonly string _listenConnectionString;
    private readonly Channel<SlotChange> _outbox = Channel.CreateUnbounded<SlotChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SlotChangeFanOut(string connectionString, SlotChangeNotifier notifier, ILogger<SlotChangeFanOut> logger)
    {
        _notifier = notifier;
        _logger = logger;
        _senders = new NpgsqlDataSourceBuilder(connectionString) { ConnectionStringBuilder = { ApplicationName = "deployportal-notify" } }.Build();
        // Its own, unpooled connection: a LISTEN belongs to a session, and a pooled connection would be reset when returned.
        _listenConnectionString = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            ApplicationName = ListenerApplicationName,
        }.ConnectionString;
        notifier.RelayTo(change => _outbox.Writer.TryWrite(change));
    }

    /// <summary>Identifies this process in notifications, so it skips its own.</summary>
    public Guid Origin { get; } = Guid.NewGuid();

    /// <summary>The <c>application_name</c> of the listening session (operators can find it in <c>pg_stat_activity</c>).</summary>
    public string ListenerApplicationName => $"deployportal-listen-{Origin:N}";

    /// <summary>Completes once this replica first listens, i.e. from when it hears every other replica.</summary>
    public Task Listening => _listening.Task;

    /// <summary>How many times the listening session was (re)established.</summary>
    public int Connections { get; private set; }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(ListenAsync(stoppingToken), SendAsync(stoppingToken));

    private async Task ListenAsync(CancellationToken ct)
    {
        var delay = FirstRetry;
        var missedSome = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_listenConnectionString);
                connection.Notification += OnNotification;
                await connection.OpenAsync(ct);
                await using (var listen = new NpgsqlCommand($"LISTEN {ChannelName}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

                Connections++;
                delay = FirstRetry;
                _listening.TrySetResult();
                if (missedSome)
                {
                    _logger.LogInformation("Listening for other replicas' slot changes again; open pages reload");
                    // Pooled connections from before the outage are likely dead too, and each would fail the first query
                    // that took it (the pages' reload among them).
                    NpgsqlConnection.ClearAllPools();
                    _notifier.PublishLocal(SlotChange.Resync);
                    missedSome = false;
                }

                while (true)
                {
                    if (!await connection.WaitAsync(KeepAlive, ct))
                    {
                        await using var ping = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = 10 };
                        await ping.ExecuteScalarAsync(ct);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                if (!missedSome)
                {
                    _notifier.PublishLocal(SlotChange.Paused); // open boards say since when they show the state
                }

                missedSome = true;
                _logger.LogWarning(ex, "Listening for other replicas' slot changes failed; retrying in {Delay}", delay);
                try
                {
                    await Task.Delay(delay, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetry.Ticks));
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        try
        {
            var message = JsonSerializer.Deserialize<Message>(e.Payload);
            if (message is null || message.Origin == Origin)
            {
                return;
            }

            _notifier.PublishLocal(new SlotChange(message.SlotId, message.What, message.DeploymentId));
        }
        catch (JsonException ex)
        {
            _logger.LogWarning(ex, "Ignored a malformed slot change notification");
        }
    }

    private async Task SendAsync(CancellationToken ct)
    {
        var batch = new List<SlotChange>();
        try
        {
            while (await _outbox.Reader.WaitToReadAsync(ct))
            {
                while (batch.Count < 100 && _outbox.Reader.TryRead(out var change))
                {
                    batch.Add(change);
                }

                await NotifyAsync(batch, ct);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Sends a burst in one round trip; retried a few times, then given up (peers then show it at their next change).</summary>
    private async Task NotifyAsync(List<SlotChange> changes, CancellationToken ct)
    {
        var delay = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _senders.OpenConnectionAsync(ct);
                await using var notify = new NpgsqlBatch(connection);
                foreach (var change in changes)
                {
                    var command = new NpgsqlBatchCommand("SELECT pg_notify($1, $2)");
                    command.Parameters.Add(new NpgsqlParameter { Value = ChannelName });
                    command.Parameters.Add(new NpgsqlParameter { Value = Payload(change) });
                    notify.BatchCommands.Add(command);
                }

                await notify.ExecuteNonQueryAsync(ct);
                return;
            }
            catch (Exception ex) when ((ex is NpgsqlException or TimeoutException or IOException) && attempt < 4)
            {
                _logger.LogWarning(ex, "Telling other replicas about {Count} slot changes failed; retrying in {Delay}", changes.Count, delay);
                await Task.Delay(delay, ct);
                delay *= 2;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _logger.LogError(ex, "Other replicas were not told about {Count} slot changes", changes.Count);
                return;
            }
        }
    }

    private string Payload(SlotChange change)
    {
        var json = JsonSerializer.Serialize(new Message(Origin, change.SlotId, change.What, change.DeploymentId));
        return Encoding.UTF8.GetByteCount(json) <= MaxPayloadBytes
            ? json
            : JsonSerializer.Serialize(new Message(Origin, SlotChange.Resync.SlotId, SlotChange.Resync.What, null));
    }

    public override void Dispose()
    {
        base.Dispose();
        _senders.Dispose();
    }

    private sealed record Message(Guid Origin, int SlotId, string What, long? DeploymentId);
}

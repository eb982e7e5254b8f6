using System.Collections.Concurrent;
using DeployPortal.Web.Notifications;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// The real <see cref="PortalEvents"/> (webhook jobs go to the harness's job client), with every event it raises
/// recorded from its debug log line, so service tests can see events whether or not a receiver is configured.
/// </summary>
internal sealed class RecordingEvents : ILogger<PortalEvents>
{
    public RecordingEvents(IBackgroundJobClient jobs, IOptionsMonitor<NotificationOptions> options, TimeProvider clock) =>
        Events = new PortalEvents(jobs, options, clock, this);

    public PortalEvents Events { get; }

    public ConcurrentQueue<(PortalEventKind Kind, string Slot, string Text)> Raised { get; } = new();

    public IReadOnlyList<(PortalEventKind Kind, string Slot, string Text)> Of(PortalEventKind kind) => [.. Raised.Where(e => e.Kind == kind)];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values
            && values.FirstOrDefault(v => v.Key == "Kind").Value is PortalEventKind kind)
        {
            Raised.Enqueue((kind, (string)values.First(v => v.Key == "Slot").Value!, (string)values.First(v => v.Key == "Text").Value!));
        }
    }
}

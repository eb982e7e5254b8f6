using System.Collections.Concurrent;
using DeployPortal.Web.Notifications;
using Microsoft.Extensions.Logging;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// The real <see cref="PortalEvents"/>, with the events it raises recorded from its log line (the contract
/// class has no other seam yet; when webhook delivery lands behind it, record there instead).
/// </summary>
public sealed class RecordingEvents : ILogger<PortalEvents>
{
    public RecordingEvents() => Events = new PortalEvents(this);

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

using System.Collections.Concurrent;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Auth;

/// <summary>Open interactive circuits per user, across this process.</summary>
internal sealed class CircuitCounter
{
    private readonly ConcurrentDictionary<string, int> _open = new();

    /// <summary>Counts one more circuit for <paramref name="user"/> unless that would pass <paramref name="limit"/>.</summary>
    public bool TryOpen(string user, int limit)
    {
        while (true)
        {
            var current = _open.GetValueOrDefault(user);
            if (current >= limit)
            {
                return false;
            }

            if (current == 0 ? _open.TryAdd(user, 1) : _open.TryUpdate(user, current + 1, current))
            {
                return true;
            }
        }
    }

    public void Close(string user)
    {
        while (_open.TryGetValue(user, out var current))
        {
            if (current <= 1 ? _open.TryRemove(new KeyValuePair<string, int>(user, current)) : _open.TryUpdate(user, current - 1, current))
            {
                return;
            }
        }
    }

    public int OpenFor(string user) => _open.GetValueOrDefault(user);
}

/// <summary>
/// Each circuit holds server memory for as long as its tab is open, so one person (or one stolen cookie)
/// opening hundreds of tabs could exhaust the server. Past the limit, a new circuit fails to start and the
/// page shows the reconnect/error UI; the person's other tabs keep working.
/// </summary>
internal sealed class CircuitLimitHandler(
    CircuitCounter counter,
    AuthenticationStateProvider authentication,
    IOptionsMonitor<SessionOptions> options,
    ILogger<CircuitLimitHandler> logger) : CircuitHandler
{
    private string? _user;

    public override async Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        var state = await authentication.GetAuthenticationStateAsync();
        var user = state.User.FindFirst(PortalClaims.Subject)?.Value;
        if (user is null)
        {
            return; // anonymous circuits only exist on the sign-in pages, which are not interactive
        }

        if (!counter.TryOpen(user, options.CurrentValue.MaxCircuitsPerUser))
        {
            logger.LogWarning("Refused a circuit for {User}: {Limit} already open", user, options.CurrentValue.MaxCircuitsPerUser);
            throw new InvalidOperationException($"Too many open DeployPortal tabs for {state.User.Identity?.Name}. Close some and reload.");
        }

        _user = user;
    }

    public override Task OnCircuitClosedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        if (_user is not null)
        {
            counter.Close(_user);
            _user = null;
        }

        return Task.CompletedTask;
    }
}

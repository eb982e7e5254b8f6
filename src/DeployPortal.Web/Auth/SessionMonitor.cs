using System.Collections.Concurrent;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Auth;

/// <summary>
/// Keeps every open page's user in step with its server-side session. An interactive page keeps the user it started
/// with; this tells it when that session ended (sign-out in another tab, expiry, an admin, a refused refresh) or its
/// roles changed. A session ended on this replica is told at once; everything else, from every replica, at the next
/// check, one query for all open pages every <c>Auth:Session:RevalidateEvery</c>. Open pages' tokens are refreshed
/// here when due, so a role changed at the identity provider reaches a page that makes no requests.
/// </summary>
internal sealed class SessionMonitor(
    SessionStore sessions,
    IServiceProvider services,
    IOptionsMonitor<SessionOptions> options,
    TimeProvider clock,
    ILogger<SessionMonitor> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Watcher, string> _watchers = new();
    private readonly ILogger _logger = logger;

    /// <summary>Calls <paramref name="changed"/> with the session's new roles, or null once it ended, until disposed.</summary>
    public IDisposable Watch(string key, string roles, Func<string?, Task> changed)
    {
        var watcher = new Watcher(this, key, roles, changed);
        _watchers[watcher] = key;
        return watcher;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        sessions.SessionEnded += OnSessionEnded;
        try
        {
            using var timer = new PeriodicTimer(options.CurrentValue.RevalidateEvery, clock);
            var purgeAt = clock.GetUtcNow();
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await CheckAllAsync(stoppingToken);
                    if (clock.GetUtcNow() >= purgeAt)
                    {
                        await sessions.PurgeAsync(stoppingToken);
                        purgeAt = clock.GetUtcNow().AddHours(1);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The database may be away for a while; pages keep their user and actions still check for themselves.
                    logger.LogWarning("Could not check open pages' sessions: {Reason}", ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            sessions.SessionEnded -= OnSessionEnded;
        }
    }

    /// <summary>One pass over every open page's session; public for tests that drive the clock.</summary>
    public async Task CheckAllAsync(CancellationToken ct)
    {
        var watchersByKey = _watchers.Keys.ToLookup(w => w.Key);
        foreach (var chunk in watchersByKey.Select(g => g.Key).Chunk(1000))
        {
            var states = await sessions.StatesAsync(chunk, ct);
            foreach (var key in chunk)
            {
                var state = states.GetValueOrDefault(key);
                if (state is { Open: true, RefreshDue: true })
                {
                    var refresher = services.GetService<SessionRefresher>();
                    if (refresher is not null)
                    {
                        var (outcome, ticket) = await refresher.RefreshAsync(key, ct);
                        state = outcome == RefreshOutcome.Ended ? default : state with { Roles = ticket is null ? state.Roles : SessionCheck.RolesOf(ticket.Principal) };
                    }
                }

                foreach (var watcher in watchersByKey[key])
                {
                    await watcher.TellAsync(state.Open ? state.Roles : null);
                }
            }
        }
    }

    private void OnSessionEnded(string key)
    {
        foreach (var watcher in _watchers.Keys.Where(w => w.Key == key))
        {
            _ = watcher.TellAsync(null);
        }
    }

    private sealed class Watcher(SessionMonitor monitor, string key, string roles, Func<string?, Task> changed) : IDisposable
    {
        private string? _roles = roles;

        public string Key => key;

        public async Task TellAsync(string? roles)
        {
            if (_roles is null || roles == _roles)
            {
                return; // told already, or nothing new
            }

            _roles = roles;
            try
            {
                await changed(roles);
            }
            catch (Exception ex)
            {
                monitor._logger.LogDebug(ex, "An open page could not take its session's change");
            }
        }

        public void Dispose() => monitor._watchers.TryRemove(this, out _);
    }
}

/// <summary>
/// Whether the session an open page started with has ended. Scoped: one per circuit. The page keeps its user (so
/// <c>AuthorizeRouteView</c> does not navigate away and lose what was typed); the layout shows that the session ended,
/// and the services refuse every action of it (<see cref="SessionCheck"/>).
/// </summary>
internal sealed class CircuitSession
{
    public bool Ended { get; private set; }

    public event Action? Changed;

    internal void End()
    {
        Ended = true;
        Changed?.Invoke();
    }
}

/// <summary>
/// The circuit's authentication state, kept in step with its session by <see cref="SessionMonitor"/>: the new
/// principal when its roles change; <see cref="CircuitSession.Ended"/> once it ends.
/// </summary>
internal sealed class SessionAuthenticationStateProvider : ServerAuthenticationStateProvider, IDisposable
{
    private readonly SessionMonitor _monitor;
    private readonly SessionStore _sessions;
    private readonly CircuitSession _circuit;
    private IDisposable? _watch;
    private bool _live;

    public SessionAuthenticationStateProvider(SessionMonitor monitor, SessionStore sessions, CircuitSession circuit)
    {
        (_monitor, _sessions, _circuit) = (monitor, sessions, circuit);
        AuthenticationStateChanged += OnChanged;
    }

    /// <summary>
    /// Called when this scope turns out to be a circuit (<see cref="SessionCircuitHandler"/>): only live pages are
    /// watched. A prerender is over before any change could reach it, and one changed mid-response might never finish.
    /// </summary>
    public void GoLive()
    {
        _live = true;
        OnChanged(GetAuthenticationStateAsync());
    }

    private async void OnChanged(Task<AuthenticationState> task)
    {
        if (!_live)
        {
            return;
        }

        try
        {
            var user = (await task).User;
            _watch?.Dispose();
            _watch = user.FindFirst(PortalClaims.Session)?.Value is { } key
                ? _monitor.Watch(key, SessionCheck.RolesOf(user), roles => ChangedAsync(key, roles))
                : null;
        }
        catch (Exception)
        {
            // A faulted state task leaves the page as it is; the next change tries again.
        }
    }

    private async Task ChangedAsync(string key, string? roles)
    {
        if (roles is null || await _sessions.ReadAsync(key) is not { } session)
        {
            _watch?.Dispose();
            _circuit.End();
            return;
        }

        SetAuthenticationState(Task.FromResult(new AuthenticationState(session.Ticket.Principal)));
    }

    public void Dispose()
    {
        AuthenticationStateChanged -= OnChanged;
        _watch?.Dispose();
    }
}

/// <summary>Starts the session watch of a circuit's authentication state once the circuit is open.</summary>
internal sealed class SessionCircuitHandler(AuthenticationStateProvider authentication) : Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler
{
    public override Task OnCircuitOpenedAsync(Microsoft.AspNetCore.Components.Server.Circuits.Circuit circuit, CancellationToken cancellationToken)
    {
        (authentication as SessionAuthenticationStateProvider)?.GoLive();
        return Task.CompletedTask;
    }
}

using System.Net;
using System.Net.Sockets;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// A loopback TCP forwarder in front of a real server (the test PostgreSQL), so a test can take the server away
/// as a network outage does: <see cref="Cut"/> resets every open connection and every new one, <see cref="Restore"/>
/// forwards again. The listening socket stays open the whole time: closing and binding it again could fail with
/// "address in use" while the port's earlier connections linger in TIME_WAIT.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly Lock _gate = new();
    private readonly List<TcpClient> _open = [];
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private bool _cut;

    public TcpProxy(string targetHost, int targetPort)
    {
        _target = new IPEndPoint(IPAddress.Parse(targetHost == "localhost" ? "127.0.0.1" : targetHost), targetPort);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync(_stopping.Token);
    }

    public int Port { get; }

    /// <summary>Resets every forwarded connection and each new one: the server is gone as far as clients can tell.</summary>
    public void Cut()
    {
        lock (_gate)
        {
            _cut = true;
            foreach (var client in _open)
            {
                Reset(client);
            }

            _open.Clear();
        }
    }

    public void Restore()
    {
        lock (_gate)
        {
            _cut = false;
        }
    }

    private async Task AcceptAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (IsCut())
            {
                Reset(inbound);
                continue;
            }

            var outbound = new TcpClient();
            try
            {
                await outbound.ConnectAsync(_target, ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                Reset(inbound);
                outbound.Dispose();
                continue;
            }

            lock (_gate)
            {
                if (_cut) // cut while connecting
                {
                    Reset(inbound);
                    Reset(outbound);
                    continue;
                }

                _open.Add(inbound);
                _open.Add(outbound);
            }

            _ = PumpAsync(inbound, outbound, ct);
            _ = PumpAsync(outbound, inbound, ct);
        }
    }

    private bool IsCut()
    {
        lock (_gate)
        {
            return _cut;
        }
    }

    /// <summary>Closes with a reset rather than a goodbye, like a dead host's firewall or a crashed server.</summary>
    private static void Reset(TcpClient client)
    {
        try
        {
            if (client.Client is { } socket) // null once a pump has closed it
            {
                socket.LingerState = new LingerOption(true, 0);
            }
        }
        catch (ObjectDisposedException)
        {
        }

        client.Dispose();
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to, CancellationToken ct)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream(), ct);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        _stopping.Cancel();
        _listener.Stop();
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }
}

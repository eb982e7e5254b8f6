namespace DeployPortal.Web.Slots;

/// <summary>What <see cref="SlotChangeNotifier"/> and <see cref="BoardClock"/> hand a subscriber: disposing it unsubscribes, once.</summary>
internal sealed class Subscription(Action unsubscribe) : IDisposable
{
    private Action? _unsubscribe = unsubscribe;

    public void Dispose() => Interlocked.Exchange(ref _unsubscribe, null)?.Invoke();
}

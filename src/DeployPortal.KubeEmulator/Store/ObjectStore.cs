using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace DeployPortal.KubeEmulator.Store;

/// <summary>An object as stored: an immutable JSON snapshot plus its serialized bytes (never mutate <see cref="Node"/>).</summary>
internal sealed class StoredObject
{
    public StoredObject(ResourceKind kind, JsonObject node)
    {
        Kind = kind;
        Node = node;
        Json = System.Text.Encoding.UTF8.GetBytes(node.ToJsonString()); // also materialises the node for lock-free reads
        var meta = node["metadata"]!.AsObject();
        Name = (string)meta["name"]!;
        Namespace = (string?)meta["namespace"] ?? "";
        // A dry-run create answers an object that was never stored, so it has no resourceVersion (as on a real server).
        ResourceVersion = meta["resourceVersion"] is { } rv ? long.Parse((string)rv!, System.Globalization.CultureInfo.InvariantCulture) : 0;
        Uid = (string?)meta["uid"] ?? "";
    }

    public ResourceKind Kind { get; }
    public JsonObject Node { get; }
    public byte[] Json { get; }
    public string Name { get; }
    public string Namespace { get; }
    public string Uid { get; }
    public long ResourceVersion { get; }

    /// <summary>A mutable deep copy.</summary>
    public JsonObject Clone() => Node.DeepClone().AsObject();
    public JsonObject? Labels => Node["metadata"]?["labels"] as JsonObject;
}

internal enum WatchEventType { Added, Modified, Deleted }

internal sealed record ChangeEvent(WatchEventType Type, StoredObject Object)
{
    public long ResourceVersion => Object.ResourceVersion;
    public string TypeName => Type switch { WatchEventType.Added => "ADDED", WatchEventType.Modified => "MODIFIED", _ => "DELETED" };
}

/// <summary>A watch subscription: a replay of past events followed by live ones.</summary>
internal sealed class Subscription : IDisposable
{
    private readonly ObjectStore _store;
    internal Subscription(ObjectStore store, ResourceKind kind, string? ns, Func<StoredObject, bool> filter)
    {
        _store = store;
        Kind = kind;
        Namespace = ns;
        Filter = filter;
    }
    public ResourceKind Kind { get; }
    public string? Namespace { get; }
    public Func<StoredObject, bool> Filter { get; }
    public Channel<ChangeEvent> Events { get; } = Channel.CreateUnbounded<ChangeEvent>(new UnboundedChannelOptions { SingleReader = true });
    public bool Matches(ChangeEvent e) => e.Object.Kind == Kind && (Namespace is null || e.Object.Namespace == Namespace);
    public void Dispose() => _store.Unsubscribe(this);
}

/// <summary>Thrown for "too old resource version" when a watch cannot be resumed.</summary>
internal sealed class ResourceVersionTooOldException(long requested, long oldest) : Exception($"too old resource version: {requested} ({oldest})");

/// <summary>
/// In-memory store of unstructured objects per kind and namespace, with one global, monotonically increasing
/// resourceVersion (like etcd's revision) and a bounded change history that watches replay from.
/// </summary>
internal sealed class ObjectStore
{
    private readonly object _lock = new();
    private readonly Dictionary<ResourceKind, Dictionary<(string Ns, string Name), StoredObject>> _objects = new();
    private readonly Queue<ChangeEvent> _history = new();
    private readonly List<Subscription> _subscriptions = new();
    private readonly int _historySize;
    private long _rv = 1;
    private long _oldestResumable = 1;

    public ObjectStore(int historySize)
    {
        _historySize = Math.Max(1, historySize);
        foreach (var k in ResourceKind.All)
        {
            _objects[k] = new();
        }
    }

    public event Action<ChangeEvent>? Changed;

    public long CurrentResourceVersion { get { lock (_lock) { return _rv; } } }

    public int SubscriptionCount { get { lock (_lock) { return _subscriptions.Count; } } }

    public StoredObject? Get(ResourceKind kind, string ns, string name)
    {
        lock (_lock)
        {
            return _objects[kind].GetValueOrDefault((kind.Namespaced ? ns : "", name));
        }
    }

    public (List<StoredObject> Items, long ResourceVersion) List(ResourceKind kind, string? ns, Func<StoredObject, bool>? filter = null)
    {
        lock (_lock)
        {
            var items = new List<StoredObject>();
            foreach (var o in _objects[kind].Values)
            {
                if ((ns is null || o.Namespace == ns) && (filter is null || filter(o)))
                {
                    items.Add(o);
                }
            }

            items.Sort(static (a, b) => a.Namespace != b.Namespace ? string.CompareOrdinal(a.Namespace, b.Namespace) : string.CompareOrdinal(a.Name, b.Name));
            return (items, _rv);
        }
    }

    /// <summary>Stores a new object. Returns null when the name is taken.</summary>
    public StoredObject? Create(ResourceKind kind, JsonObject obj)
    {
        lock (_lock)
        {
            var meta = obj["metadata"]!.AsObject();
            var key = (kind.Namespaced ? (string?)meta["namespace"] ?? "" : "", (string)meta["name"]!);
            if (_objects[kind].ContainsKey(key))
            {
                return null;
            }

            meta["resourceVersion"] = (++_rv).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var stored = new StoredObject(kind, obj);
            _objects[kind][key] = stored;
            Publish(new ChangeEvent(WatchEventType.Added, stored));
            return stored;
        }
    }

    /// <summary>
    /// Atomically reads, transforms and writes an object. <paramref name="update"/> gets a mutable copy (or null when
    /// absent) and returns the new object, or null to leave it unchanged. Unchanged content keeps the resourceVersion.
    /// </summary>
    public StoredObject? Update(ResourceKind kind, string ns, string name, Func<StoredObject?, JsonObject?> update)
    {
        lock (_lock)
        {
            var key = (kind.Namespaced ? ns : "", name);
            var current = _objects[kind].GetValueOrDefault(key);
            var next = update(current);
            if (next is null)
            {
                return current;
            }

            if (current is not null)
            {
                next["metadata"]!["resourceVersion"] = current.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (JsonNode.DeepEquals(next, current.Node))
                {
                    return current;
                }
            }
            next["metadata"]!["resourceVersion"] = (++_rv).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var stored = new StoredObject(kind, next);
            _objects[kind][key] = stored;
            Publish(new ChangeEvent(current is null ? WatchEventType.Added : WatchEventType.Modified, stored));
            return stored;
        }
    }

    public StoredObject? Delete(ResourceKind kind, string ns, string name, string? expectedUid = null)
    {
        lock (_lock)
        {
            var key = (kind.Namespaced ? ns : "", name);
            if (!_objects[kind].TryGetValue(key, out var current))
            {
                return null;
            }

            if (expectedUid is not null && current.Uid != expectedUid)
            {
                return null;
            }

            _objects[kind].Remove(key);
            var gone = current.Clone();
            gone["metadata"]!["resourceVersion"] = (++_rv).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var stored = new StoredObject(kind, gone);
            Publish(new ChangeEvent(WatchEventType.Deleted, stored));
            return stored;
        }
    }

    /// <summary>
    /// Subscribes to changes. With <paramref name="fromResourceVersion"/> null, the current matching objects are sent
    /// first as ADDED (a watch without resourceVersion or with "0"); otherwise events after it are replayed.
    /// </summary>
    public Subscription Subscribe(ResourceKind kind, string? ns, long? fromResourceVersion, Func<StoredObject, bool> filter)
    {
        lock (_lock)
        {
            var sub = new Subscription(this, kind, ns, filter);
            if (fromResourceVersion is null)
            {
                foreach (var o in List(kind, ns, filter).Items)
                {
                    sub.Events.Writer.TryWrite(new ChangeEvent(WatchEventType.Added, o));
                }
            }
            else
            {
                if (fromResourceVersion < _oldestResumable - 1)
                {
                    throw new ResourceVersionTooOldException(fromResourceVersion.Value, _oldestResumable);
                }

                foreach (var e in _history)
                {
                    if (e.ResourceVersion > fromResourceVersion && sub.Matches(e))
                    {
                        sub.Events.Writer.TryWrite(e);
                    }
                }
            }
            _subscriptions.Add(sub);
            return sub;
        }
    }

    internal void Unsubscribe(Subscription sub)
    {
        lock (_lock)
        {
            _subscriptions.Remove(sub);
        }

        sub.Events.Writer.TryComplete();
    }

    /// <summary>Drops the whole change history, so watches from any older resourceVersion get 410 Gone (like an etcd compaction).</summary>
    public void Compact()
    {
        lock (_lock)
        { _history.Clear(); _oldestResumable = _rv + 1; }
    }

    private void Publish(ChangeEvent e)
    {
        _history.Enqueue(e);
        while (_history.Count > _historySize)
        {
            _oldestResumable = _history.Dequeue().ResourceVersion + 1;
        }

        foreach (var s in _subscriptions)
        {
            if (s.Matches(e))
            {
                s.Events.Writer.TryWrite(e);
            }
        }

        Changed?.Invoke(e);
    }
}

namespace Engine.Host.Hooks;

/// <summary>The logged-in sockets with their user id and login param. A user may hold several sockets.</summary>
public sealed class OnlineUsers(HookCounters counters)
{
    private readonly object _lock = new();
    private readonly Dictionary<IOnlineSocket, (string UserId, string Param)> _sockets = new(ReferenceEqualityComparer.Instance);

    public int SocketCount { get { lock (_lock) return _sockets.Count; } }

    public void Add(IOnlineSocket socket, string userId, string param)
    {
        lock (_lock)
        {
            _sockets[socket] = (userId, param);
            Publish();
        }
    }

    /// <summary>Removes the socket; false when it was not logged in.</summary>
    public bool TryRemove(IOnlineSocket socket, out string userId, out string param)
    {
        lock (_lock)
        {
            if (!_sockets.Remove(socket, out var entry))
            {
                userId = param = "";
                return false;
            }
            (userId, param) = entry;
            Publish();
            return true;
        }
    }

    public bool Contains(IOnlineSocket socket)
    {
        lock (_lock) return _sockets.ContainsKey(socket);
    }

    /// <summary>Distinct user ids, in order.</summary>
    public List<string> UserIds()
    {
        lock (_lock)
        {
            var ids = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var e in _sockets.Values)
                ids.Add(e.UserId);
            return ids.ToList();
        }
    }

    /// <summary>The param of every logged-in socket: the sync's <c>params</c>.</summary>
    public List<string> Params()
    {
        lock (_lock) return _sockets.Values.Select(e => e.Param).ToList();
    }

    public List<IOnlineSocket> SocketsOf(string userId)
    {
        lock (_lock) return _sockets.Where(kv => kv.Value.UserId == userId).Select(kv => kv.Key).ToList();
    }

    private void Publish() => counters.SetOnline(_sockets.Values.Select(e => e.UserId).Distinct(StringComparer.Ordinal).Count(), _sockets.Count);
}

namespace Engine.Host.Hooks;

/// <summary>What a request for the online-list sync did.</summary>
public enum SyncStart
{
    /// <summary>Queued now; logins answer errno 16 until it ends.</summary>
    Started,
    /// <summary>The last one started less than the sync interval ago: it runs when the interval is over.</summary>
    Deferred,
    /// <summary>One is already in flight.</summary>
    Pending,
    /// <summary>No EXTSYNCPATH: there is nothing to sync.</summary>
    NoUrl,
}

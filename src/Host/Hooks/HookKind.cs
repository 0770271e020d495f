namespace Engine.Host.Hooks;

/// <summary>The calls made to the customer's back-end (docs/LEGACY-GATEWAY.md, HTTP hooks).</summary>
public enum HookKind
{
    /// <summary>EXTSETSTATUSPATH with <c>status: 1</c>: the login check.</summary>
    Status = 0,
    /// <summary>EXTSETSTATUSPATH with <c>status: 0</c>: a logged-in socket closed.</summary>
    Offline = 1,
    /// <summary>EXTSYNCPATH: the whole online list.</summary>
    Sync = 2,
}

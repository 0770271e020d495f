namespace Engine.Host.Hooks;

/// <summary>A logged-in WebSocket, as the online list sees it.</summary>
public interface IOnlineSocket
{
    /// <summary>Sends <c>imRTC/sendKickUserNotice</c> and closes the socket (its call ends with it). Must not block.</summary>
    void Kick(string userId);
}

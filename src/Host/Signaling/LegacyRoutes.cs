namespace Engine.Host.Signaling;

/// <summary>Route names of the legacy WebSocket protocol (docs/LEGACY-GATEWAY.md).</summary>
public static class LegacyRoutes
{
    public const string SendPing = "imRTC/sendPing";
    public const string SendSdpCall = "imRTC/sendSdpCall";
    public const string SendSdpPull = "imRTC/sendSdpPull";
    public const string SendSdpUpdate = "imRTC/sendSdpUpdate";
    public const string Login = "imRTC/login";
    public const string SendGetToken = "imRTC/sendGetToken";

    public const string SdpAnswerNotice = "imRTC/sendSdpAnswerNotice";
    public const string StartMediaNotice = "imRTC/sendStartMediaNotice";
    public const string ErrorNotice = "imRTC/sendErrorNotice";
    public const string KickUserNotice = "imRTC/sendKickUserNotice";
}

namespace Engine.Codec.Rtmp;

/// <summary>The owner of a <see cref="RtmpPlaySession"/>: called on the thread that calls Receive, never across threads.</summary>
internal interface IRtmpPlayHandler
{
    void OnEvent(in RtmpPlayEvent e);
}

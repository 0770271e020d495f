namespace Engine.Rtp;

/// <summary>One RFC 8285 header extension element: its local id and its data bytes.</summary>
public readonly ref struct RtpHeaderExtension
{
    public RtpHeaderExtension(int id, ReadOnlySpan<byte> data)
    {
        Id = id;
        Data = data;
    }

    public int Id { get; }
    public ReadOnlySpan<byte> Data { get; }
}

namespace Engine.Rtp;

/// <summary>
/// Client-to-mixer audio level (RFC 6464 §3): V bit (voice activity) and the level in -dBov, 0..127.
/// </summary>
public readonly struct AudioLevel
{
    public const int SerializedLength = 1;

    public AudioLevel(bool voiceActivity, byte levelDbov)
    {
        VoiceActivity = voiceActivity;
        LevelDbov = (byte)(levelDbov & 0x7f);
    }

    public bool VoiceActivity { get; }

    /// <summary>Level as a positive number of -dBov: 0 is loudest, 127 is silence.</summary>
    public byte LevelDbov { get; }

    public static bool TryRead(ReadOnlySpan<byte> data, out AudioLevel value)
    {
        value = default;
        // RFC 6464 §3: one byte; the two-byte form may pad it, so more bytes are tolerated.
        if (data.Length < SerializedLength)
            return false;
        value = new AudioLevel((data[0] & 0x80) != 0, (byte)(data[0] & 0x7f));
        return true;
    }

    public int Write(Span<byte> destination)
    {
        if (destination.Length < SerializedLength)
            return 0;
        destination[0] = (byte)((VoiceActivity ? 0x80 : 0) | LevelDbov);
        return SerializedLength;
    }
}

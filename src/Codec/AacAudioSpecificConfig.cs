namespace Engine.Codec;

/// <summary>
/// The fields of an MPEG-4 AudioSpecificConfig (ISO 14496-3 §1.6.2.1) a player needs: the audio
/// object type (2 = AAC LC), the sampling rate and the channel count (0: given by a program config element).
/// </summary>
internal readonly record struct AacAudioSpecificConfig(int ObjectType, int SampleRate, int Channels, int ChannelConfiguration)
{
    private static readonly int[] Rates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

    public static bool TryParse(ReadOnlySpan<byte> asc, out AacAudioSpecificConfig config)
    {
        config = default;
        if (asc.Length < 2)
            return false;
        int bit = 0;
        int Read(ReadOnlySpan<byte> d, int n, ref int at)
        {
            int v = 0;
            for (int i = 0; i < n; i++, at++)
                v = v << 1 | (d[at >> 3] >> (7 - (at & 7)) & 1);
            return v;
        }
        int objectType = Read(asc, 5, ref bit);
        if (objectType == 31)
        {
            if (asc.Length * 8 < bit + 6 + 4 + 4)
                return false;
            objectType = 32 + Read(asc, 6, ref bit);
        }
        int index = Read(asc, 4, ref bit);
        int rate;
        if (index == 15)
        {
            if (asc.Length * 8 < bit + 24 + 4)
                return false;
            rate = Read(asc, 24, ref bit);
        }
        else if (index < Rates.Length)
            rate = Rates[index];
        else
            return false;
        if (asc.Length * 8 < bit + 4)
            return false;
        int channelConfiguration = Read(asc, 4, ref bit);
        if (objectType == 0 || rate == 0 || channelConfiguration > 7)
            return false;
        int channels = channelConfiguration == 7 ? 8 : channelConfiguration; // §1.6.3.4, table 1.19
        config = new AacAudioSpecificConfig(objectType, rate, channels, channelConfiguration);
        return true;
    }
}

namespace Engine.Host.Sessions;

/// <summary>
/// [RTP] RTP_TEST=1: drops incoming packets in bursts before decryption, to exercise NACK and
/// keyframe recovery. The legacy gateway's figures: a burst starts with probability 1/300 for
/// audio (1-150 packets) and 1/100 for video (1-50 packets).
/// </summary>
internal sealed class BurstLoss(int seed)
{
    // A lottery per kind: which packets of a stream are lost depends on the seed and that stream's
    // own packet order only, not on how audio and video happen to interleave.
    private readonly Random _audio = new(seed), _video = new(~seed);
    private int _audioLeft, _videoLeft;

    public long Dropped { get; private set; }

    public bool ShouldDrop(bool video)
    {
        ref int left = ref video ? ref _videoLeft : ref _audioLeft;
        var random = video ? _video : _audio;
        if (left == 0 && random.Next(video ? 100 : 300) == 0)
            left = random.Next(1, video ? 51 : 151);
        if (left == 0)
            return false;
        left--;
        Dropped++;
        return true;
    }
}

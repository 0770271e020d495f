namespace Engine.Rtp.Video;

/// <summary>
/// VP8 decodability from the payload descriptor (RFC 7741 §4.2). Consecutive picture IDs across a
/// sequence gap mean only padding was lost. With temporal layers (TL0PICIDX and TID), a base frame
/// needs the previous base frame (TL0PICIDX one less), a frame of layer T needs its base frame and
/// the layers 1..T unbroken, or only its base frame when Y (layer sync) is set; a lost frame with
/// N (non-reference) takes nothing with it. Lost whole frames of unknown layer break every upper layer
/// that has carried reference frames, until it resyncs. Without a picture ID the verdict is Unknown.
/// </summary>
internal sealed class Vp8FrameDependencies : IFrameDependencies
{
    private const int MaxLayers = 4; // TID is 2 bits

    private readonly bool[] _layerBroken = new bool[MaxLayers];
    private readonly bool[] _layerHasReferences = new bool[MaxLayers]; // a frame of the layer came without N

    // The current frame.
    private bool _seen, _sync, _nonReference, _missingBase;
    private int _pictureId, _pictureIdMask, _tl0, _tid;

    // The stream.
    private int _lastPictureId = -1;
    private int _baseTl0 = -1; // TL0PICIDX of the last delivered base frame

    public bool LayersBroken
    {
        get
        {
            for (int t = 1; t < MaxLayers; t++)
            {
                if (_layerBroken[t])
                    return true;
            }
            return false;
        }
    }

    public void BeginFrame()
    {
        _seen = _sync = _nonReference = _missingBase = false;
        _pictureId = _tl0 = _tid = -1;
    }

    /// <summary>The descriptor of a packet of the current frame (every packet repeats it). -1: field absent.</summary>
    public void OnDescriptor(int pictureId, bool longPictureId, int tl0PicIdx, int tid, bool layerSync, bool nonReference)
    {
        if (_seen)
            return;
        _seen = true;
        _pictureId = pictureId;
        _pictureIdMask = longPictureId ? 0x7FFF : 0x7F;
        _tl0 = tl0PicIdx;
        _tid = tid;
        _sync = layerSync;
        _nonReference = nonReference;
        if (tid > 0 && tl0PicIdx >= 0 && !nonReference)
            _layerHasReferences[tid] = true;
    }

    private bool Layered => _tl0 >= 0 && _tid >= 0;

    public FrameDependencyVerdict Judge(bool isKeyframe, long packetsLostBefore, bool chainBroken)
    {
        if (!_seen || _pictureId < 0)
            return FrameDependencyVerdict.Unknown;
        if (isKeyframe)
            return FrameDependencyVerdict.Decodable;
        if (chainBroken)
            return FrameDependencyVerdict.MissingReference;
        int missing = 0;
        if (packetsLostBefore > 0)
        {
            // Fewer lost packets than picture IDs cannot hide a wrap.
            if (_lastPictureId < 0 || packetsLostBefore > _pictureIdMask)
                return FrameDependencyVerdict.Unknown;
            missing = (_pictureId - _lastPictureId - 1) & _pictureIdMask;
        }
        if (!Layered)
            return missing == 0 ? FrameDependencyVerdict.Decodable : FrameDependencyVerdict.MissingReference;
        if (_baseTl0 < 0)
            return FrameDependencyVerdict.Unknown;
        int tl0Step = (_tl0 - _baseTl0) & 0xFF;
        if (tl0Step != (_tid == 0 ? 1 : 0))
        {
            _missingBase = true; // a base frame was lost
            return FrameDependencyVerdict.MissingReference;
        }
        if (missing > 0)
        {
            // Whole frames of upper layers were lost, layer unknown: each layer that carries
            // reference frames may have lost one; a layer of N=1 frames only loses nothing.
            for (int t = 1; t < MaxLayers; t++)
                _layerBroken[t] |= _layerHasReferences[t];
        }
        if (_tid == 0 || _sync)
            return FrameDependencyVerdict.Decodable;
        for (int t = 1; t <= _tid; t++)
        {
            if (_layerBroken[t])
                return FrameDependencyVerdict.MissingReference;
        }
        return FrameDependencyVerdict.Decodable;
    }

    public void OnDelivered(bool isKeyframe)
    {
        if (!_seen)
            return;
        if (_pictureId >= 0)
            _lastPictureId = _pictureId;
        if (isKeyframe)
            Array.Clear(_layerBroken);
        if (!Layered)
        {
            _baseTl0 = -1;
            return;
        }
        if (_tid == 0)
            _baseTl0 = _tl0;
        else if (_sync)
            _layerBroken[_tid] = false;
    }

    public FrameLossImpact OnDropped()
    {
        if (!_seen)
            return FrameLossImpact.BreaksChain;
        if (_pictureId >= 0)
            _lastPictureId = _pictureId;
        if (_missingBase)
            return FrameLossImpact.BreaksChain;
        if (_nonReference)
            return FrameLossImpact.NoDependents;
        if (Layered && _tid > 0)
        {
            _layerBroken[_tid] = true;
            return FrameLossImpact.BreaksLayer;
        }
        return FrameLossImpact.BreaksChain;
    }
}

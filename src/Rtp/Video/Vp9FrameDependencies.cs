namespace Engine.Rtp.Video;

/// <summary>
/// VP9 decodability from the payload descriptor (RFC 9628 §4.2), per picture (all its spatial
/// layers). Flexible mode (F=1) lists each layer frame's references as P_DIFFs: a picture decodes
/// when every picture it names was delivered, whatever was lost. Non-flexible mode uses
/// TL0PICIDX and TID as VP8 does, with U (switching up point) resyncing the layers above. A
/// picture without inter-picture prediction (P=0) needs nothing earlier. Without a picture ID
/// the verdict is Unknown.
/// </summary>
internal sealed class Vp9FrameDependencies : IFrameDependencies
{
    private const int MaxLayers = 8; // TID is 3 bits
    private const int MaxReferences = 24; // 3 P_DIFFs per layer frame, 8 spatial layers

    private readonly bool[] _layerBroken = new bool[MaxLayers];
    private readonly int[] _delivered = new int[128]; // picture ID + 1 by (ID mod 128); P_DIFF is 7 bits
    private readonly int[] _references = new int[MaxReferences];

    // The current picture.
    private bool _seen, _flexible, _interPredicted, _switchUp, _missingBase, _missingReference, _tooManyReferences;
    private int _pictureId, _pictureIdMask, _tl0, _tid, _referenceCount;

    // The stream.
    private int _lastPictureId = -1;
    private int _baseTl0 = -1;

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
        _seen = _flexible = _interPredicted = _switchUp = _missingBase = _missingReference = _tooManyReferences = false;
        _pictureId = _tl0 = _tid = -1;
        _referenceCount = 0;
    }

    /// <summary>
    /// The descriptor of a packet of the current picture; <paramref name="layerFrameStart"/> (B=1)
    /// adds that layer frame's P flag and P_DIFF bytes. -1: field absent.
    /// </summary>
    public void OnDescriptor(bool layerFrameStart, int pictureId, bool longPictureId, bool flexible, bool interPredicted,
        int tid, bool switchUp, int tl0PicIdx, ReadOnlySpan<byte> pDiffs)
    {
        if (!_seen)
        {
            _seen = true;
            _pictureId = pictureId;
            _pictureIdMask = longPictureId ? 0x7FFF : 0x7F;
            _flexible = flexible;
            _tid = tid;
            _switchUp = switchUp;
            _tl0 = tl0PicIdx;
        }
        if (!layerFrameStart)
            return;
        _interPredicted |= interPredicted;
        foreach (byte diff in pDiffs)
        {
            if (_referenceCount == MaxReferences)
            {
                _tooManyReferences = true;
                return;
            }
            _references[_referenceCount++] = diff >> 1; // P_DIFF(7)|N(1)
        }
    }

    private bool Layered => _tl0 >= 0 && _tid >= 0;

    public FrameDependencyVerdict Judge(bool isKeyframe, long packetsLostBefore, bool chainBroken)
    {
        if (!_seen || _pictureId < 0)
            return FrameDependencyVerdict.Unknown;
        if (isKeyframe || !_interPredicted)
            return FrameDependencyVerdict.Decodable;
        if (_flexible)
        {
            if (_tooManyReferences || _referenceCount == 0)
                return FrameDependencyVerdict.Unknown;
            for (int i = 0; i < _referenceCount; i++)
            {
                int id = (_pictureId - _references[i]) & _pictureIdMask;
                if (_delivered[id & 127] != id + 1)
                {
                    _missingReference = true;
                    return FrameDependencyVerdict.MissingReference;
                }
            }
            return FrameDependencyVerdict.Decodable;
        }
        if (chainBroken)
            return FrameDependencyVerdict.MissingReference;
        int missing = 0;
        if (packetsLostBefore > 0)
        {
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
            _missingBase = true;
            return FrameDependencyVerdict.MissingReference;
        }
        if (missing > 0)
        {
            for (int t = 1; t < MaxLayers; t++)
                _layerBroken[t] = true;
        }
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
        {
            _lastPictureId = _pictureId;
            _delivered[_pictureId & 127] = _pictureId + 1;
        }
        if (isKeyframe)
            Array.Clear(_layerBroken);
        if (!Layered)
        {
            _baseTl0 = -1;
            return;
        }
        if (_tid == 0)
            _baseTl0 = _tl0;
        if (_switchUp)
        {
            // RFC 9628 §4.2 U: later pictures above this layer do not refer to earlier ones above it.
            for (int t = _tid + 1; t < MaxLayers; t++)
                _layerBroken[t] = false;
        }
    }

    public FrameLossImpact OnDropped()
    {
        if (!_seen)
            return FrameLossImpact.BreaksChain;
        if (_pictureId >= 0)
        {
            _lastPictureId = _pictureId;
            _delivered[_pictureId & 127] = 0;
        }
        if (_flexible && _pictureId >= 0)
        {
            // Its dependents name it: they are recognised when they come. One that did name a lost
            // picture asks for a keyframe, since the sender's chain runs through it.
            return _missingReference ? FrameLossImpact.BreaksChain : FrameLossImpact.NoDependents;
        }
        if (_missingBase)
            return FrameLossImpact.BreaksChain;
        if (Layered && _tid > 0)
        {
            _layerBroken[_tid] = true;
            return FrameLossImpact.BreaksLayer;
        }
        return FrameLossImpact.BreaksChain;
    }
}

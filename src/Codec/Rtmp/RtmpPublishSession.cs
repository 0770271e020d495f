using System.Buffers.Binary;

namespace Engine.Codec.Rtmp;

internal enum RtmpPublishState { Handshake, Connect, CreateStream, Publish, Live, Closed, Failed }

/// <summary>
/// The client side of an RTMP publish (Adobe RTMP 1.0): the plain handshake, connect /
/// createStream / publish, and FLV audio, video and metadata as chunked messages. Sans-IO: the
/// host feeds what the server sent to <see cref="Receive"/> and sends <see cref="Outgoing"/>.
/// Media written before the server accepts the publish is held and sent after. Everything is
/// bounded: a server message over 64 KB, a chunk size over 64 KB or more than 8 chunk streams
/// fail the session; media beyond the pending limit is refused (the caller drops it). Not
/// thread-safe: the owner locks.
/// </summary>
internal sealed class RtmpPublishSession
{
    public const int HandshakeSize = RtmpClientHandshake.Size;
    public const int OutChunkSize = RtmpChunkWriter.ChunkSize;
    private const int MaxInChunkSize = 65536, MaxMessage = 65536, MaxChunkStreams = 8;
    private const int CsControl = 2, CsCommand = 3, CsAudio = 4, CsData = 5, CsVideo = 6, CsStream = 8;
    private const byte TypeSetChunkSize = RtmpChunkReader.TypeSetChunkSize, TypeAck = 3, TypeUserControl = 4, TypeWindowAck = 5,
        TypePeerBandwidth = 6, TypeAudio = 8, TypeVideo = 9, TypeAmf3Command = 17, TypeData = 18, TypeCommand = 20;
    private const double TxnConnect = 1, TxnReleaseStream = 2, TxnFcPublish = 3, TxnCreateStream = 4, TxnPublish = 5;
    private static readonly string[] StatusKeys = ["code", "level", "description"];

    private readonly RtmpUrl _url;
    private readonly ByteBuffer _held, _scratch;
    private ByteBuffer _out;
    private readonly int _maxPendingBytes;
    private readonly List<int> _heldHeaders = new(64);
    // Every chunk stream may hold a whole message: the buffer budget never binds.
    private readonly RtmpClientInput _input = new(MaxChunkStreams, MaxMessage, MaxInChunkSize, MaxChunkStreams * MaxMessage);
    private long _received, _acknowledged;
    private uint _ackWindow, _streamId;

    public RtmpPublishSession(RtmpUrl url, int maxPendingBytes)
    {
        _url = url;
        _maxPendingBytes = maxPendingBytes;
        _out = NewOutgoingBuffer();
        _held = new ByteBuffer(0, maxPendingBytes);
        _scratch = new ByteBuffer(512, MaxMessage);
    }

    public RtmpPublishState State { get; private set; } = RtmpPublishState.Handshake;
    public string? Error { get; private set; }
    public bool IsLive => State == RtmpPublishState.Live;
    public bool HasFailed => State == RtmpPublishState.Failed;
    /// <summary>Bytes to send; the host consumes what the socket took.</summary>
    public ByteBuffer Outgoing => _out;
    /// <summary>An empty buffer like <see cref="Outgoing"/>, for <see cref="SwapOutgoing"/>.</summary>
    public ByteBuffer NewOutgoingBuffer() => new(16 * 1024, _maxPendingBytes + 64 * 1024);

    /// <summary>
    /// The host takes everything pending and leaves <paramref name="empty"/> in its place, so it can
    /// send outside the owner's lock while writers go on appending.
    /// </summary>
    public ByteBuffer SwapOutgoing(ByteBuffer empty)
    {
        var taken = _out;
        _out = empty;
        return taken;
    }

    /// <summary>Bytes the host took and has not sent yet; they count against the pending limit.</summary>
    public int InFlight { get; set; }

    /// <summary>Media bytes waiting: held before the publish starts, not yet handed to the host, or in flight.</summary>
    public int PendingBytes => _out.Length + _held.Length + InFlight;
    public long MessagesReceived => _input.Reader.Messages;

    /// <summary>C0 and C1: the plain handshake (no digest), which nginx-rtmp, SRS and others accept.</summary>
    public void Start(uint epochMillis) => RtmpClientHandshake.WriteC0C1(_out, epochMillis);

    /// <summary>Bytes from the server, in order. Replies (C2, commands, acknowledgements) go to <see cref="Outgoing"/>.</summary>
    public void Receive(ReadOnlySpan<byte> data)
    {
        if (State is RtmpPublishState.Failed or RtmpPublishState.Closed)
            return;
        _received += data.Length;
        while (!data.IsEmpty && State != RtmpPublishState.Failed)
        {
            int room = _input.Append(data);
            if (room == 0)
            {
                Fail("RTMP: unparsable input from the server"); // cannot happen: a full buffer always holds a whole chunk
                return;
            }
            data = data[room..];
            Parse();
        }
        if (State != RtmpPublishState.Failed && _ackWindow > 0 && _received - _acknowledged >= _ackWindow)
        {
            _acknowledged = _received;
            Span<byte> ack = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(ack, (uint)_received);
            if (!_out.CanAppend(12 + ack.Length))
            {
                Fail("RTMP: replies to the server over the buffer limit (it does not read)");
                return;
            }
            RtmpChunkWriter.Write(_out, CsControl, TypeAck, 0, 0, ack, default);
        }
    }

    private void Parse()
    {
        while (State != RtmpPublishState.Failed)
        {
            switch (_input.Next(_out, out var message, out string? error))
            {
                case RtmpInputEvent.HandshakeReply:
                    SendConnect();
                    break;
                case RtmpInputEvent.Message:
                    OnMessage(message.Type, message.Payload);
                    break;
                case RtmpInputEvent.Failed:
                    Fail(error!);
                    return;
                default:
                    return;
            }
        }
    }

    private void OnMessage(byte type, ReadOnlySpan<byte> m)
    {
        switch (type)
        {
            case TypeUserControl:
                // PingRequest (6) wants a PingResponse (7) with the same time.
                if (m.Length >= 6 && BinaryPrimitives.ReadUInt16BigEndian(m) == 6)
                {
                    Span<byte> pong = stackalloc byte[6];
                    BinaryPrimitives.WriteUInt16BigEndian(pong, 7);
                    m.Slice(2, 4).CopyTo(pong[2..]);
                    // A server that floods pings and does not read must not grow the buffer past its limit.
                    if (!_out.CanAppend(12 + pong.Length))
                        Fail("RTMP: replies to the server over the buffer limit (it does not read)");
                    else
                        RtmpChunkWriter.Write(_out, CsControl, TypeUserControl, 0, 0, pong, default);
                }
                return;
            case TypeWindowAck:
                if (m.Length >= 4)
                    _ackWindow = BinaryPrimitives.ReadUInt32BigEndian(m);
                return;
            case TypeCommand:
                OnCommand(m);
                return;
            case TypeAmf3Command:
                if (!m.IsEmpty)
                    OnCommand(m[1..]);
                return;
            default:
                return; // acknowledgements, peer bandwidth, data, media: nothing a publisher must do
        }
    }

    private void OnCommand(ReadOnlySpan<byte> m)
    {
        if (!Amf0.TryReadString(ref m, out string name))
            return;
        Amf0.TryReadNumber(ref m, out double txn);
        switch (name)
        {
            case "_result" when txn == TxnConnect && State == RtmpPublishState.Connect:
                // releaseStream and FCPublish are what FMLE-style encoders send; servers that do not know them answer _error, which is ignored.
                SendCommand(CsCommand, 0, "releaseStream", TxnReleaseStream, _url.Stream);
                SendCommand(CsCommand, 0, "FCPublish", TxnFcPublish, _url.Stream);
                SendCommand(CsCommand, 0, "createStream", TxnCreateStream, null);
                State = RtmpPublishState.CreateStream;
                return;
            case "_result" when txn == TxnCreateStream && State == RtmpPublishState.CreateStream:
                if (!Amf0.TrySkip(ref m) || !Amf0.TryReadNumber(ref m, out double id) || id is < 0 or > uint.MaxValue)
                {
                    Fail("RTMP: createStream result without a stream id");
                    return;
                }
                _streamId = (uint)id;
                SendPublish();
                State = RtmpPublishState.Publish;
                return;
            case "_error" when txn is TxnConnect or TxnCreateStream or TxnPublish:
            {
                Amf0.TrySkip(ref m);
                Span<string?> v = new string?[3];
                Amf0.TryReadObjectStrings(ref m, StatusKeys, v);
                Fail($"RTMP server refused {(txn == TxnConnect ? "connect" : txn == TxnCreateStream ? "createStream" : "publish")}: {v[0] ?? "error"} {v[2]}".TrimEnd());
                return;
            }
            case "onStatus":
            {
                Amf0.TrySkip(ref m); // the null command object
                Span<string?> v = new string?[3];
                if (!Amf0.TryReadObjectStrings(ref m, StatusKeys, v))
                    return;
                if (v[0] == "NetStream.Publish.Start")
                {
                    if (State == RtmpPublishState.Publish)
                    {
                        State = RtmpPublishState.Live;
                        var held = _out.Reserve(_held.Length);
                        _held.Span.CopyTo(held);
                        foreach (int at in _heldHeaders)
                            BinaryPrimitives.WriteUInt32LittleEndian(held[(at + 8)..], _streamId);
                        _held.Clear();
                        _heldHeaders.Clear();
                    }
                }
                else if (v[1] == "error")
                    Fail($"RTMP server: {v[0]} {v[2]}".TrimEnd());
                return;
            }
            case "close":
                Fail("RTMP server closed the connection");
                return;
        }
    }

    private void SendConnect()
    {
        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(size, OutChunkSize);
        RtmpChunkWriter.Write(_out, CsControl, TypeSetChunkSize, 0, 0, size, default);
        var b = _scratch;
        b.Clear();
        Amf0.WriteString(b, "connect");
        Amf0.WriteNumber(b, TxnConnect);
        Amf0.WriteObjectStart(b);
        Amf0.WriteKey(b, "app"); Amf0.WriteString(b, _url.App);
        Amf0.WriteKey(b, "type"); Amf0.WriteString(b, "nonprivate");
        Amf0.WriteKey(b, "flashVer"); Amf0.WriteString(b, "FMLE/3.0 (compatible; Engine)");
        Amf0.WriteKey(b, "tcUrl"); Amf0.WriteString(b, _url.TcUrl);
        Amf0.WriteObjectEnd(b);
        RtmpChunkWriter.Write(_out, CsCommand, TypeCommand, 0, 0, b.Span, default);
        State = RtmpPublishState.Connect;
    }

    private void SendPublish()
    {
        var b = _scratch;
        b.Clear();
        Amf0.WriteString(b, "publish");
        Amf0.WriteNumber(b, TxnPublish);
        Amf0.WriteNull(b);
        Amf0.WriteString(b, _url.Stream);
        Amf0.WriteString(b, "live");
        RtmpChunkWriter.Write(_out, CsStream, TypeCommand, _streamId, 0, b.Span, default);
    }

    private void SendCommand(int csid, uint streamId, string name, double txn, object? argument)
    {
        var b = _scratch;
        b.Clear();
        Amf0.WriteString(b, name);
        Amf0.WriteNumber(b, txn);
        Amf0.WriteNull(b);
        if (argument is string s)
            Amf0.WriteString(b, s);
        else if (argument is double d)
            Amf0.WriteNumber(b, d);
        RtmpChunkWriter.Write(_out, csid, TypeCommand, streamId, 0, b.Span, default);
    }

    /// <summary>@setDataFrame onMetaData: what players show before the first frame.</summary>
    public bool WriteMetadata(int width, int height, bool hasVideo, int audioSampleRate, int audioChannels)
    {
        var b = _scratch;
        b.Clear();
        Amf0.WriteString(b, "@setDataFrame");
        Amf0.WriteString(b, "onMetaData");
        int count = (hasVideo ? 3 : 0) + (audioChannels > 0 ? 3 : 0) + 1;
        Amf0.WriteEcmaArrayStart(b, count);
        if (hasVideo)
        {
            Amf0.WriteKey(b, "width"); Amf0.WriteNumber(b, width);
            Amf0.WriteKey(b, "height"); Amf0.WriteNumber(b, height);
            Amf0.WriteKey(b, "videocodecid"); Amf0.WriteNumber(b, 7);
        }
        if (audioChannels > 0)
        {
            Amf0.WriteKey(b, "audiocodecid"); Amf0.WriteNumber(b, 10);
            Amf0.WriteKey(b, "audiosamplerate"); Amf0.WriteNumber(b, audioSampleRate);
            Amf0.WriteKey(b, "stereo"); Amf0.WriteBoolean(b, audioChannels > 1);
        }
        Amf0.WriteKey(b, "encoder"); Amf0.WriteString(b, "Engine");
        Amf0.WriteObjectEnd(b);
        return WriteMedia(CsData, TypeData, 0, b.Span, default);
    }

    /// <summary>An FLV video tag body: AVC sequence header (the avcC record) or AVC NAL units (length-prefixed).</summary>
    public bool WriteVideo(uint millis, bool keyframe, bool sequenceHeader, ReadOnlySpan<byte> data)
    {
        Span<byte> prefix = stackalloc byte[5];
        prefix[0] = (byte)((keyframe ? 0x10 : 0x20) | 7);
        prefix[1] = sequenceHeader ? (byte)0 : (byte)1;
        prefix[2] = prefix[3] = prefix[4] = 0; // composition time: WebRTC H.264 has no B-frames
        return WriteMedia(CsVideo, TypeVideo, millis, prefix, data);
    }

    /// <summary>An FLV audio tag body: AAC sequence header (AudioSpecificConfig) or one raw AAC frame.</summary>
    public bool WriteAudio(uint millis, bool sequenceHeader, ReadOnlySpan<byte> data)
    {
        Span<byte> prefix = stackalloc byte[2];
        prefix[0] = 0xAF; // AAC; FLV's rate/size/channel bits are fixed for AAC
        prefix[1] = sequenceHeader ? (byte)0 : (byte)1;
        return WriteMedia(CsAudio, TypeAudio, millis, prefix, data);
    }

    /// <summary>FCUnpublish and deleteStream: the end of the publish, sent before the socket closes.</summary>
    public void Finish()
    {
        if (State is RtmpPublishState.Failed or RtmpPublishState.Closed)
            return;
        if (State == RtmpPublishState.Live)
        {
            SendCommand(CsCommand, 0, "FCUnpublish", 6, _url.Stream);
            SendCommand(CsCommand, 0, "deleteStream", 7, (double)_streamId);
        }
        _held.Clear();
        _heldHeaders.Clear();
        State = RtmpPublishState.Closed;
    }

    public bool Fail(string error)
    {
        if (State != RtmpPublishState.Failed)
        {
            Error = error;
            State = RtmpPublishState.Failed;
        }
        return false;
    }

    private bool WriteMedia(int csid, byte type, uint millis, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> data)
    {
        if (State is RtmpPublishState.Failed or RtmpPublishState.Closed)
            return false;
        bool live = State == RtmpPublishState.Live;
        var target = live ? _out : _held;
        int size = RtmpChunkWriter.MessageSize(prefix.Length + data.Length, millis);
        if (PendingBytes + size > _maxPendingBytes || !target.CanAppend(size))
            return false;
        if (!live)
            _heldHeaders.Add(_held.Length); // its stream id is patched in once createStream has answered
        RtmpChunkWriter.Write(target, csid, type, _streamId, millis, prefix, data);
        return true;
    }
}

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
    public const int HandshakeSize = 1536;
    public const int OutChunkSize = 4096;
    private const int MaxInChunkSize = 65536, MaxMessage = 65536, MaxChunkStreams = 8;
    private const int CsControl = 2, CsCommand = 3, CsAudio = 4, CsData = 5, CsVideo = 6, CsStream = 8;
    private const byte TypeSetChunkSize = 1, TypeAbort = 2, TypeAck = 3, TypeUserControl = 4, TypeWindowAck = 5,
        TypePeerBandwidth = 6, TypeAudio = 8, TypeVideo = 9, TypeAmf3Command = 17, TypeData = 18, TypeCommand = 20;
    private const double TxnConnect = 1, TxnReleaseStream = 2, TxnFcPublish = 3, TxnCreateStream = 4, TxnPublish = 5;
    private static readonly string[] StatusKeys = ["code", "level", "description"];

    private readonly RtmpUrl _url;
    private readonly ByteBuffer _held, _in, _scratch;
    private ByteBuffer _out;
    private readonly int _maxPendingBytes;
    private readonly List<int> _heldHeaders = new(64);
    private readonly InStream[] _streams = new InStream[MaxChunkStreams];
    private int _streamCount;
    private int _handshakeRead; // bytes of S0 S1 S2 consumed
    private int _inChunkSize = 128;
    private long _received, _acknowledged;
    private uint _ackWindow, _streamId;

    public RtmpPublishSession(RtmpUrl url, int maxPendingBytes)
    {
        _url = url;
        _maxPendingBytes = maxPendingBytes;
        _out = NewOutgoingBuffer();
        _held = new ByteBuffer(0, maxPendingBytes);
        _in = new ByteBuffer(4096, MaxInChunkSize + 32);
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
    public long MessagesReceived { get; private set; }

    /// <summary>C0 and C1: the plain handshake (no digest), which nginx-rtmp, SRS and others accept.</summary>
    public void Start(uint epochMillis)
    {
        var c = _out.Reserve(1 + HandshakeSize);
        c[0] = 3;
        BinaryPrimitives.WriteUInt32BigEndian(c[1..], epochMillis);
        c.Slice(5, 4).Clear(); // zero version: the plain handshake
        System.Security.Cryptography.RandomNumberGenerator.Fill(c.Slice(9, HandshakeSize - 8));
    }

    /// <summary>Bytes from the server, in order. Replies (C2, commands, acknowledgements) go to <see cref="Outgoing"/>.</summary>
    public void Receive(ReadOnlySpan<byte> data)
    {
        if (State is RtmpPublishState.Failed or RtmpPublishState.Closed)
            return;
        _received += data.Length;
        while (!data.IsEmpty && State != RtmpPublishState.Failed)
        {
            int room = Math.Min(data.Length, _in.MaxCapacity - _in.Length);
            if (room == 0)
            {
                Fail("RTMP: unparsable input from the server"); // cannot happen: a full buffer always holds a whole chunk
                return;
            }
            _in.Append(data[..room]);
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
            WriteMessage(_out, CsControl, TypeAck, 0, 0, ack, default);
        }
    }

    private void Parse()
    {
        while (State != RtmpPublishState.Failed)
        {
            if (_handshakeRead < 1 + 2 * HandshakeSize)
            {
                if (!ParseHandshake())
                    return;
                continue;
            }
            if (!ParseChunk())
                return;
        }
    }

    private bool ParseHandshake()
    {
        var s = _in.Span;
        if (_handshakeRead == 0)
        {
            if (s.Length < 1 + HandshakeSize)
                return false;
            if (s[0] != 3)
                return Fail($"RTMP handshake: server version {s[0]}, not 3");
            _out.Append(s.Slice(1, HandshakeSize)); // C2 echoes S1
            _in.Consume(1 + HandshakeSize);
            _handshakeRead = 1 + HandshakeSize;
            SendConnect();
            return true;
        }
        if (s.Length < HandshakeSize)
            return false;
        _in.Consume(HandshakeSize); // S2 echoes C1; servers differ in what they put there, so it is not checked
        _handshakeRead += HandshakeSize;
        return true;
    }

    private bool ParseChunk()
    {
        var s = _in.Span;
        if (s.IsEmpty)
            return false;
        int fmt = s[0] >> 6, csid = s[0] & 0x3F, pos = 1;
        if (csid == 0)
        {
            if (s.Length < 2) return false;
            csid = 64 + s[1];
            pos = 2;
        }
        else if (csid == 1)
        {
            if (s.Length < 3) return false;
            csid = 64 + s[1] + s[2] * 256;
            pos = 3;
        }
        int header = fmt switch { 0 => 11, 1 => 7, 2 => 3, _ => 0 };
        if (s.Length < pos + header)
            return false;
        int index = FindStream(csid);
        if (index < 0)
        {
            if (_streamCount == MaxChunkStreams)
                return Fail("RTMP: too many chunk streams from the server");
            if (fmt != 0)
                return Fail("RTMP: a chunk stream started without a full header");
        }
        InStream fresh = default;
        ref var st = ref index >= 0 ? ref _streams[index] : ref fresh;
        if (st.Filled > 0 && fmt != 3)
            return Fail("RTMP: a new message header inside a message");
        var h = s.Slice(pos, header);
        uint tsField = 0;
        if (fmt <= 2)
            tsField = (uint)(h[0] << 16 | h[1] << 8 | h[2]);
        int length = st.Length;
        byte type = st.Type;
        uint streamId = st.StreamId;
        if (fmt <= 1)
        {
            length = h[3] << 16 | h[4] << 8 | h[5];
            type = h[6];
        }
        if (fmt == 0)
            streamId = BinaryPrimitives.ReadUInt32LittleEndian(h[7..]);
        pos += header;
        bool extended = fmt <= 2 ? tsField == 0xFFFFFF : st.Extended;
        if (extended)
        {
            if (s.Length < pos + 4)
                return false;
            tsField = BinaryPrimitives.ReadUInt32BigEndian(s[pos..]);
            pos += 4;
        }
        if (length > MaxMessage)
            return Fail($"RTMP: a server message of {length} bytes (limit {MaxMessage})");
        int chunk = Math.Min(_inChunkSize, length - st.Filled);
        if (s.Length < pos + chunk)
            return false;
        if (index < 0)
        {
            // Registered only now that its first chunk is complete.
            index = _streamCount++;
            _streams[index] = new InStream { Csid = csid };
            st = ref _streams[index];
        }

        if (st.Filled == 0)
        {
            // A new message: fmt 0 carries the time, 1 and 2 a delta, 3 repeats the last delta.
            st.Timestamp = fmt switch { 0 => tsField, 3 => st.Timestamp + st.Delta, _ => st.Timestamp + tsField };
            if (fmt is 1 or 2)
                st.Delta = tsField;
            else if (fmt == 0)
                st.Delta = 0;
            st.Length = length;
            st.Type = type;
            st.StreamId = streamId;
            st.Extended = extended;
            if (st.Message == null || st.Message.Length < length)
                st.Message = new byte[Math.Max(length, 256)];
        }
        s.Slice(pos, chunk).CopyTo(st.Message.AsSpan(st.Filled));
        st.Filled += chunk;
        _in.Consume(pos + chunk);
        if (st.Filled == st.Length)
        {
            st.Filled = 0;
            MessagesReceived++;
            OnMessage(st.Type, st.Message.AsSpan(0, st.Length));
        }
        return true;
    }

    private int FindStream(int csid)
    {
        for (int i = 0; i < _streamCount; i++)
            if (_streams[i].Csid == csid)
                return i;
        return -1;
    }

    private void OnMessage(byte type, ReadOnlySpan<byte> m)
    {
        switch (type)
        {
            case TypeSetChunkSize:
            {
                if (m.Length < 4)
                    return;
                int size = (int)(BinaryPrimitives.ReadUInt32BigEndian(m) & 0x7FFFFFFF);
                if (size is < 1 or > MaxInChunkSize)
                    Fail($"RTMP: server chunk size {size} (limit {MaxInChunkSize})");
                else
                    _inChunkSize = size;
                return;
            }
            case TypeAbort:
                if (m.Length >= 4 && FindStream((int)BinaryPrimitives.ReadUInt32BigEndian(m)) is int i and >= 0)
                    _streams[i].Filled = 0;
                return;
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
                        WriteMessage(_out, CsControl, TypeUserControl, 0, 0, pong, default);
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
        WriteMessage(_out, CsControl, TypeSetChunkSize, 0, 0, size, default);
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
        WriteMessage(_out, CsCommand, TypeCommand, 0, 0, b.Span, default);
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
        WriteMessage(_out, CsStream, TypeCommand, _streamId, 0, b.Span, default);
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
        WriteMessage(_out, csid, TypeCommand, streamId, 0, b.Span, default);
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
        int size = MessageSize(prefix.Length + data.Length, millis);
        if (PendingBytes + size > _maxPendingBytes || !target.CanAppend(size))
            return false;
        if (!live)
            _heldHeaders.Add(_held.Length); // its stream id is patched in once createStream has answered
        WriteMessage(target, csid, type, _streamId, millis, prefix, data);
        return true;
    }

    private static int MessageSize(int length, uint millis)
    {
        int ext = millis >= 0xFFFFFF ? 4 : 0;
        int chunks = Math.Max(1, (length + OutChunkSize - 1) / OutChunkSize);
        return 12 + ext + length + (chunks - 1) * (1 + ext);
    }

    /// <summary>One message, fmt 0 header, split into chunks of <see cref="OutChunkSize"/>.</summary>
    private static void WriteMessage(ByteBuffer b, int csid, byte type, uint streamId, uint millis, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> data)
    {
        int length = prefix.Length + data.Length;
        bool ext = millis >= 0xFFFFFF;
        var h = b.Reserve(ext ? 16 : 12);
        h[0] = (byte)csid;
        uint ts = ext ? 0xFFFFFF : millis;
        h[1] = (byte)(ts >> 16); h[2] = (byte)(ts >> 8); h[3] = (byte)ts;
        h[4] = (byte)(length >> 16); h[5] = (byte)(length >> 8); h[6] = (byte)length;
        h[7] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], streamId);
        if (ext)
            BinaryPrimitives.WriteUInt32BigEndian(h[12..], millis);
        int written = 0;
        while (written < length)
        {
            if (written > 0)
            {
                var c = b.Reserve(ext ? 5 : 1);
                c[0] = (byte)(0xC0 | csid);
                if (ext)
                    BinaryPrimitives.WriteUInt32BigEndian(c[1..], millis);
            }
            int n = Math.Min(OutChunkSize, length - written);
            var dst = b.Reserve(n);
            // The chunk may straddle the prefix and the data.
            int fromPrefix = Math.Clamp(prefix.Length - written, 0, n);
            if (fromPrefix > 0)
                prefix.Slice(written, fromPrefix).CopyTo(dst);
            data.Slice(written + fromPrefix - prefix.Length, n - fromPrefix).CopyTo(dst[fromPrefix..]);
            written += n;
        }
    }

    private struct InStream
    {
        public int Csid, Length, Filled;
        public uint Timestamp, Delta, StreamId;
        public byte Type;
        public bool Extended;
        public byte[]? Message;
    }
}

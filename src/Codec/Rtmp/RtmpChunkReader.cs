using System.Buffers.Binary;

namespace Engine.Codec.Rtmp;

/// <summary>
/// The receive half of the RTMP chunk stream (Adobe RTMP 1.0 §5.3): chunks in, whole messages out.
/// Sans-IO and allocation-free once each chunk stream's buffer has grown to its largest message.
/// Applies set chunk size (type 1) and abort (type 2) itself and still reports them. Bounded: at
/// most <c>maxChunkStreams</c> chunk streams, messages up to <c>maxMessage</c> bytes, a chunk size
/// up to <c>maxChunkSize</c>, <c>maxBufferedBytes</c> of message buffers in all. Bad input never
/// throws: it fails the reader with a reason (<see cref="Error"/>).
/// </summary>
internal sealed class RtmpChunkReader
{
    public const byte TypeSetChunkSize = 1, TypeAbort = 2;
    private readonly int _maxMessage, _maxChunkSize, _maxBufferedBytes;
    private readonly InStream[] _streams;
    private int _streamCount, _bufferedBytes;

    public RtmpChunkReader(int maxChunkStreams, int maxMessage, int maxChunkSize, int maxBufferedBytes)
    {
        _streams = new InStream[maxChunkStreams];
        _maxMessage = maxMessage;
        _maxChunkSize = maxChunkSize;
        _maxBufferedBytes = maxBufferedBytes;
    }

    /// <summary>The server's chunk size: 128 until it sets another (§5.4.1).</summary>
    public int ChunkSize { get; private set; } = 128;
    public long Messages { get; private set; }
    public int ChunkStreams => _streamCount;
    /// <summary>Bytes held in the chunk streams' message buffers.</summary>
    public int BufferedBytes => _bufferedBytes;
    public string? Error { get; private set; }
    public bool HasFailed => Error != null;

    /// <summary>
    /// Reads at most one chunk from the front of <paramref name="s"/>. <paramref name="consumed"/>
    /// is what to drop from the input (0 unless a whole chunk was there); on
    /// <see cref="RtmpChunkResult.Message"/>, <paramref name="message"/> is the message it finished.
    /// </summary>
    // RTMP 1.0 §5.3.1: basic header, message header (fmt 0-3), extended timestamp, chunk data.
    public RtmpChunkResult Read(ReadOnlySpan<byte> s, out int consumed, out RtmpMessage message)
    {
        consumed = 0;
        message = default;
        if (HasFailed)
            return RtmpChunkResult.Failed;
        if (s.IsEmpty)
            return RtmpChunkResult.NeedMore;
        int fmt = s[0] >> 6, csid = s[0] & 0x3F, pos = 1;
        if (csid == 0)
        {
            if (s.Length < 2) return RtmpChunkResult.NeedMore;
            csid = 64 + s[1];
            pos = 2;
        }
        else if (csid == 1)
        {
            if (s.Length < 3) return RtmpChunkResult.NeedMore;
            csid = 64 + s[1] + s[2] * 256;
            pos = 3;
        }
        int header = fmt switch { 0 => 11, 1 => 7, 2 => 3, _ => 0 };
        if (s.Length < pos + header)
            return RtmpChunkResult.NeedMore;
        int index = FindStream(csid);
        if (index < 0)
        {
            if (_streamCount == _streams.Length)
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
        // §5.3.1.3: a type 3 chunk repeats the extended field when its message's header had one.
        bool extended = fmt <= 2 ? tsField == 0xFFFFFF : st.Extended;
        if (extended)
        {
            if (s.Length < pos + 4)
                return RtmpChunkResult.NeedMore;
            tsField = BinaryPrimitives.ReadUInt32BigEndian(s[pos..]);
            pos += 4;
        }
        if (length > _maxMessage)
            return Fail($"RTMP: a server message of {length} bytes (limit {_maxMessage})");
        int chunk = Math.Min(ChunkSize, length - st.Filled);
        if (s.Length < pos + chunk)
            return RtmpChunkResult.NeedMore;
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
        }
        if (chunk > 0 && !EnsureCapacity(ref st, st.Filled + chunk))
            return RtmpChunkResult.Failed;
        s.Slice(pos, chunk).CopyTo(st.Message.AsSpan(st.Filled));
        st.Filled += chunk;
        consumed = pos + chunk;
        if (st.Filled < st.Length)
            return RtmpChunkResult.Chunk;
        st.Filled = 0;
        Messages++;
        var payload = st.Message.AsSpan(0, st.Length);
        if (st.Type == TypeSetChunkSize && payload.Length >= 4)
        {
            // §5.4.1: the top bit is reserved.
            int size = (int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFFFFFF);
            if (size < 1 || size > _maxChunkSize)
                return Fail($"RTMP: server chunk size {size} (limit {_maxChunkSize})");
            ChunkSize = size;
        }
        else if (st.Type == TypeAbort && payload.Length >= 4 && FindStream((int)BinaryPrimitives.ReadUInt32BigEndian(payload)) is int i and >= 0)
        {
            _streams[i].Filled = 0; // §5.4.2: the partial message is dropped
        }
        message = new RtmpMessage(st.Type, st.StreamId, st.Timestamp, payload);
        return RtmpChunkResult.Message;
    }

    private RtmpChunkResult Fail(string error)
    {
        Error ??= error;
        return RtmpChunkResult.Failed;
    }

    // Buffers grow with the bytes that arrive, not with the length a header claims.
    private bool EnsureCapacity(ref InStream st, int needed)
    {
        int have = st.Message?.Length ?? 0;
        if (have >= needed)
            return true;
        int size = Math.Max(have, 4096);
        while (size < needed)
            size *= 2;
        size = Math.Min(size, Math.Max(needed, st.Length));
        if (_bufferedBytes - have + size > _maxBufferedBytes)
        {
            Fail($"RTMP: server messages in progress over {_maxBufferedBytes >> 20} MB");
            return false;
        }
        var bigger = new byte[size];
        st.Message.AsSpan(0, st.Filled).CopyTo(bigger);
        _bufferedBytes += size - have;
        st.Message = bigger;
        return true;
    }

    private int FindStream(int csid)
    {
        for (int i = 0; i < _streamCount; i++)
            if (_streams[i].Csid == csid)
                return i;
        return -1;
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

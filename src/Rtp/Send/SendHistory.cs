using Engine.Rtp.Rtcp;

namespace Engine.Rtp.Send;

/// <summary>
/// What left the transport, by transport-wide sequence number (send time and size), matched
/// against transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) into
/// <see cref="SentPacketResult"/>s for a congestion controller. A preallocated ring; recording
/// and matching allocate nothing. One 16-byte entry per packet (one cache line touched per
/// record: a fan-out records for every player per packet).
/// </summary>
public sealed class SendHistory
{
    // The slot is seq & mask; Round (seq >> shift) tells which of the sequences mapping there it holds, -1 when none.
    private struct Entry
    {
        public long SendMicros;
        public int Round;
        public int Size;
    }

    private readonly Entry[] _entries;
    private readonly int _mask;
    private readonly int _shift;
    private SeqNoUnwrapper _unwrapper;

    /// <param name="capacity">Packets remembered, rounded up to a power of two (8192: over 2 s at 3000 packets/s).</param>
    public SendHistory(int capacity = 8192)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        int size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity);
        _entries = new Entry[size];
        _mask = size - 1;
        _shift = System.Numerics.BitOperations.Log2((uint)size);
        for (int i = 0; i < size; i++)
            _entries[i].Round = -1;
    }

    public int Capacity => _entries.Length;
    public long Recorded { get; private set; }
    /// <summary>The newest recorded transport-wide number, unwrapped (as <see cref="SentPacketResult.TransportSequenceNumber"/>); -1 before the first.</summary>
    public long HighestRecorded => _unwrapper.Highest;
    /// <summary>Feedback entries for packets not (or no longer) in the history.</summary>
    public long UnknownInFeedback { get; private set; }

    public void Record(ushort transportSequenceNumber, long sendMicros, int size)
    {
        long seq = _unwrapper.Unwrap(transportSequenceNumber);
        ref var e = ref _entries[(int)(seq & _mask)];
        e.Round = (int)(seq >> _shift); // 2^31 rounds of the ring: beyond any session's packets
        e.SendMicros = sendMicros;
        e.Size = size;
        Recorded++;
    }

    public bool TryGet(long transportSequenceNumber, out long sendMicros, out int size)
    {
        if (transportSequenceNumber < 0 || (transportSequenceNumber >> _shift) > int.MaxValue)
        {
            sendMicros = 0;
            size = 0;
            return false;
        }
        ref readonly var e = ref _entries[(int)(transportSequenceNumber & _mask)];
        bool found = e.Round == (int)(transportSequenceNumber >> _shift);
        sendMicros = found ? e.SendMicros : 0;
        size = found ? e.Size : 0;
        return found;
    }

    /// <summary>
    /// Writes one result per reported packet we still remember, in feedback order, into
    /// <paramref name="results"/>; returns how many were written (it stops when the span is full).
    /// </summary>
    public int Match(TransportFeedbackView feedback, Span<SentPacketResult> results)
    {
        long highest = _unwrapper.Highest;
        if (highest < 0)
            return 0;
        int n = 0;
        foreach (var status in feedback)
        {
            if (n == results.Length)
                break;
            // Place the 16-bit number within ±32768 of the newest sent one.
            long seq = highest + (short)(status.SequenceNumber - (ushort)highest);
            if (!TryGet(seq, out long sent, out int size))
            {
                UnknownInFeedback++;
                continue;
            }
            results[n++] = new SentPacketResult(seq, sent, size, status.IsReceived, status.HasDelta ? status.ArrivalMicros : -1);
        }
        return n;
    }
}

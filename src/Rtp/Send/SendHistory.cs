using Engine.Rtp.Rtcp;

namespace Engine.Rtp.Send;

/// <summary>
/// What left the transport, by transport-wide sequence number (send time and size), matched
/// against transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) into
/// <see cref="SentPacketResult"/>s for a congestion controller. A preallocated ring; recording
/// and matching allocate nothing.
/// </summary>
public sealed class SendHistory
{
    private readonly long[] _sequence;
    private readonly long[] _sendMicros;
    private readonly int[] _size;
    private readonly int _mask;
    private SeqNoUnwrapper _unwrapper;

    /// <param name="capacity">Packets remembered, rounded up to a power of two (8192: over 2 s at 3000 packets/s).</param>
    public SendHistory(int capacity = 8192)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        int size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity);
        _sequence = new long[size];
        _sendMicros = new long[size];
        _size = new int[size];
        _mask = size - 1;
        Array.Fill(_sequence, -1L);
    }

    public int Capacity => _sequence.Length;
    public long Recorded { get; private set; }
    /// <summary>Feedback entries for packets not (or no longer) in the history.</summary>
    public long UnknownInFeedback { get; private set; }

    public void Record(ushort transportSequenceNumber, long sendMicros, int size)
    {
        long seq = _unwrapper.Unwrap(transportSequenceNumber);
        int i = (int)(seq & _mask);
        _sequence[i] = seq;
        _sendMicros[i] = sendMicros;
        _size[i] = size;
        Recorded++;
    }

    public bool TryGet(long transportSequenceNumber, out long sendMicros, out int size)
    {
        int i = (int)(transportSequenceNumber & _mask);
        bool found = transportSequenceNumber >= 0 && _sequence[i] == transportSequenceNumber;
        sendMicros = found ? _sendMicros[i] : 0;
        size = found ? _size[i] : 0;
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

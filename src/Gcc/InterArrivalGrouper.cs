namespace Engine.Gcc;

/// <summary>
/// Groups packets sent within a 5 ms burst and reports the deltas between consecutive groups
/// (draft-ietf-rmcat-gcc-02 §5.2). Input is an unwrapped send time (from <see cref="AbsSendTime"/>,
/// or a sender's own send times indexed by transport-wide sequence number) and an arrival time.
/// </summary>
public sealed class InterArrivalGrouper
{
    /// <summary>draft-ietf-rmcat-gcc-02 §5.2: a group is the packets sent within a burst_time of 5 ms.</summary>
    public const long GroupLengthMicros = 5_000;

    /// <summary>
    /// A packet arriving within 5 ms of the previous one, and sooner than its send spacing (negative
    /// propagation delta), was queued behind it: it joins the group (a burst, §5.2).
    /// </summary>
    public const long BurstDeltaMicros = 5_000;

    /// <summary>A burst never grows a group beyond 100 ms of arrival time (libwebrtc's bound).</summary>
    public const long MaxBurstDurationMicros = 100_000;

    /// <summary>An arrival step this far backwards means the clock jumped: start over.</summary>
    public const long ArrivalJumpResetMicros = 3_000_000;

    private Group _current;
    private Group _previous;
    private long _pendingForeignBytes;

    /// <summary>Packets older than the current group (reordered across groups), ignored.</summary>
    public long ReorderedPackets { get; private set; }

    /// <summary>Times the arrival clock ran backwards and the grouper restarted.</summary>
    public long Resets { get; private set; }

    /// <summary>
    /// A packet that is not grouped (a retransmission, probe padding) but shared the path: its bytes
    /// are charged to the group whose packets arrive next, so a delta says how much foreign data the
    /// link carried between the two groups' last packets.
    /// </summary>
    public void AddForeignBytes(int sizeBytes) => _pendingForeignBytes += sizeBytes;

    /// <summary>Adds a packet; true when it closed a group and <paramref name="delta"/> compares it with the one before.</summary>
    public bool OnPacket(long sendMicros, long arrivalMicros, int sizeBytes, out InterArrivalDelta delta)
    {
        delta = default;
        long foreign = _pendingForeignBytes;
        _pendingForeignBytes = 0;
        if (!_current.Valid)
        {
            _current = Group.Start(sendMicros, arrivalMicros, sizeBytes, foreign);
            return false;
        }
        if (sendMicros < _current.FirstSendMicros)
        {
            ReorderedPackets++;
            _current.ForeignBytes += foreign;
            return false;
        }
        if (BelongsToCurrent(sendMicros, arrivalMicros))
        {
            _current.Add(sendMicros, arrivalMicros, sizeBytes);
            _current.ForeignBytes += foreign;
            return false;
        }

        bool produced = false;
        if (_previous.Valid)
        {
            long sendDelta = _current.LastSendMicros - _previous.LastSendMicros;
            long arrivalDelta = _current.LastArrivalMicros - _previous.LastArrivalMicros;
            if (arrivalDelta < 0 || arrivalMicros - _current.LastArrivalMicros > ArrivalJumpResetMicros
                || arrivalMicros < _current.LastArrivalMicros - ArrivalJumpResetMicros)
            {
                Resets++;
                _previous = default;
                _current = Group.Start(sendMicros, arrivalMicros, sizeBytes, foreign);
                return false;
            }
            delta = new InterArrivalDelta(sendDelta, arrivalDelta, _current.LastArrivalMicros, _current.SizeBytes - _previous.SizeBytes, _current.ForeignBytes);
            produced = true;
        }
        _previous = _current;
        _current = Group.Start(sendMicros, arrivalMicros, sizeBytes, foreign);
        return produced;
    }

    public void Reset()
    {
        _current = default;
        _previous = default;
        _pendingForeignBytes = 0;
    }

    private bool BelongsToCurrent(long sendMicros, long arrivalMicros)
    {
        if (sendMicros - _current.FirstSendMicros <= GroupLengthMicros)
            return true;
        long arrivalDelta = arrivalMicros - _current.LastArrivalMicros;
        long propagationDelta = arrivalDelta - (sendMicros - _current.LastSendMicros);
        return propagationDelta < 0 && arrivalDelta >= 0 && arrivalDelta <= BurstDeltaMicros
            && arrivalMicros - _current.FirstArrivalMicros < MaxBurstDurationMicros;
    }

    private struct Group
    {
        public bool Valid;
        public long FirstSendMicros;
        public long LastSendMicros;
        public long FirstArrivalMicros;
        public long LastArrivalMicros;
        public int SizeBytes;
        public long ForeignBytes; // ungrouped bytes that arrived up to this group's last packet, after the group before

        public static Group Start(long send, long arrival, int size, long foreign = 0) => new()
        {
            Valid = true, FirstSendMicros = send, LastSendMicros = send,
            FirstArrivalMicros = arrival, LastArrivalMicros = arrival, SizeBytes = size, ForeignBytes = foreign,
        };

        public void Add(long send, long arrival, int size)
        {
            if (send > LastSendMicros) LastSendMicros = send;
            if (arrival > LastArrivalMicros) LastArrivalMicros = arrival;
            SizeBytes += size;
        }
    }
}

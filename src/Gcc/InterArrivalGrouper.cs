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

    /// <summary>Packets older than the current group (reordered across groups), ignored.</summary>
    public long ReorderedPackets { get; private set; }

    /// <summary>Times the arrival clock ran backwards and the grouper restarted.</summary>
    public long Resets { get; private set; }

    /// <summary>Adds a packet; true when it closed a group and <paramref name="delta"/> compares it with the one before.</summary>
    public bool OnPacket(long sendMicros, long arrivalMicros, int sizeBytes, out InterArrivalDelta delta)
    {
        delta = default;
        if (!_current.Valid)
        {
            _current = Group.Start(sendMicros, arrivalMicros, sizeBytes);
            return false;
        }
        if (sendMicros < _current.FirstSendMicros)
        {
            ReorderedPackets++;
            return false;
        }
        if (BelongsToCurrent(sendMicros, arrivalMicros))
        {
            _current.Add(sendMicros, arrivalMicros, sizeBytes);
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
                _current = Group.Start(sendMicros, arrivalMicros, sizeBytes);
                return false;
            }
            delta = new InterArrivalDelta(sendDelta, arrivalDelta, _current.LastArrivalMicros, _current.SizeBytes - _previous.SizeBytes);
            produced = true;
        }
        _previous = _current;
        _current = Group.Start(sendMicros, arrivalMicros, sizeBytes);
        return produced;
    }

    public void Reset()
    {
        _current = default;
        _previous = default;
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

        public static Group Start(long send, long arrival, int size) => new()
        {
            Valid = true, FirstSendMicros = send, LastSendMicros = send,
            FirstArrivalMicros = arrival, LastArrivalMicros = arrival, SizeBytes = size,
        };

        public void Add(long send, long arrival, int size)
        {
            if (send > LastSendMicros) LastSendMicros = send;
            if (arrival > LastArrivalMicros) LastArrivalMicros = arrival;
            SizeBytes += size;
        }
    }
}

using System.Buffers.Binary;
using System.Text;

namespace Engine.Ice;

/// <summary>
/// The controlling side of ICE for one remote candidate (an ICE-lite server, RFC 8445 §2.5): sends
/// binding requests with USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE (aggressive
/// nomination), MESSAGE-INTEGRITY and FINGERPRINT; retransmits them (RFC 8489 §6.2.1: RTO doubling,
/// Rc transmissions, then Rm × RTO); accepts only a response with our transaction id, the remote
/// password's integrity and a valid fingerprint, from the address checked (RFC 8445 §7.2.5.2.1).
/// Once connected it keeps consent (RFC 7675 §5.1): a check every 4-6 s, consent lost 30 s after
/// the last valid response. Sans-IO; allocation-free after construction.
/// </summary>
public sealed class IceControllingAgent
{
    public const long DefaultInitialRtoMicros = 500_000; // RFC 8445 §14.3
    public const int DefaultMaxTransmissions = 7; // RFC 8489 §6.2.1 Rc
    public const int FinalWaitFactor = 16; // RFC 8489 §6.2.1 Rm
    public const long DefaultConsentIntervalMicros = 5_000_000; // RFC 7675 §5.1
    public const long DefaultConsentTimeoutMicros = 30_000_000;

    private readonly byte[] _username; // "remoteUfrag:localUfrag" (RFC 8445 §7.2.2)
    private readonly StunMessageIntegrityKey _key; // the remote password signs both ways
    private readonly ulong _tieBreaker;
    private readonly uint _priority;
    private readonly Random _random;
    private readonly long _initialRtoMicros;
    private readonly int _maxTransmissions;
    private readonly long _consentIntervalMicros;
    private readonly long _consentTimeoutMicros;
    private readonly byte[] _request = new byte[256];
    private readonly byte[] _transactionId = new byte[12];
    private int _requestLength;
    private bool _transactionActive;
    private bool _transmitPending;
    private int _transmissions;
    private long _rtoMicros;
    private long _firstSentMicros;
    private long _nextRetransmitMicros = long.MaxValue;
    private long _nextCheckMicros;
    private long _lastConsentMicros;

    /// <param name="priority">PRIORITY of the peer-reflexive candidate this check would create (RFC 8445 §7.1.1).</param>
    /// <param name="random">Transaction ids, tie-breaker and consent jitter; seeded in tests.</param>
    public IceControllingAgent(string localUfrag, string remoteUfrag, string remotePwd, in NetAddress remote, long nowMicros,
        Random? random = null, uint priority = (110u << 24) | (65535u << 8) | 255u,
        long initialRtoMicros = DefaultInitialRtoMicros, int maxTransmissions = DefaultMaxTransmissions,
        long consentIntervalMicros = DefaultConsentIntervalMicros, long consentTimeoutMicros = DefaultConsentTimeoutMicros)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(initialRtoMicros, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTransmissions, 1);
        _username = Encoding.UTF8.GetBytes(remoteUfrag + ":" + localUfrag);
        if (_username.Length > 160)
            throw new ArgumentException("ufrags too long for one check");
        _key = StunMessageIntegrityKey.Create(Encoding.UTF8.GetBytes(remotePwd));
        Remote = remote;
        _random = random ?? new Random();
        Span<byte> tb = stackalloc byte[8];
        _random.NextBytes(tb);
        _tieBreaker = BinaryPrimitives.ReadUInt64BigEndian(tb);
        _priority = priority;
        _initialRtoMicros = initialRtoMicros;
        _maxTransmissions = maxTransmissions;
        _consentIntervalMicros = consentIntervalMicros;
        _consentTimeoutMicros = consentTimeoutMicros;
        _lastConsentMicros = nowMicros;
        _nextCheckMicros = nowMicros; // the first check goes at once
    }

    public NetAddress Remote { get; }
    public IceControllingState State { get; private set; }
    /// <summary>Our address as the remote saw it (XOR-MAPPED-ADDRESS of the last valid response).</summary>
    public NetAddress? MappedAddress { get; private set; }
    /// <summary>Round-trip time of the last check answered on its first transmission (Karn's rule); -1 until known.</summary>
    public long RttMicros { get; private set; } = -1;

    public long RequestsSent { get; private set; }
    public long Retransmissions { get; private set; }
    public long ResponsesAccepted { get; private set; }
    public long ErrorResponses { get; private set; }
    /// <summary>Responses dropped: unknown transaction, bad integrity or fingerprint, wrong source, malformed.</summary>
    public long ResponsesRejected { get; private set; }
    public long TransactionsTimedOut { get; private set; }

    public long ConsentDeadlineMicros => _lastConsentMicros + _consentTimeoutMicros;

    public bool ConsentExpired(long nowMicros) => State == IceControllingState.Connected && nowMicros >= ConsentDeadlineMicros;

    public long NextTimeoutMicros => State switch
    {
        IceControllingState.Failed => long.MaxValue,
        IceControllingState.Connected => Math.Min(Math.Min(_nextRetransmitMicros, _nextCheckMicros), ConsentDeadlineMicros),
        _ => Math.Min(_nextRetransmitMicros, _nextCheckMicros),
    };

    public void HandleTimeout(long nowMicros)
    {
        if (State == IceControllingState.Failed)
            return;
        if (_transactionActive && nowMicros >= _nextRetransmitMicros)
        {
            if (_transmissions < _maxTransmissions)
            {
                // RFC 8489 §6.2.1: the same request, the interval doubled.
                _transmissions++;
                Retransmissions++;
                _transmitPending = true;
                _rtoMicros *= 2;
                _nextRetransmitMicros = nowMicros + (_transmissions == _maxTransmissions ? FinalWaitFactor * _initialRtoMicros : _rtoMicros);
            }
            else
            {
                _transactionActive = false;
                _transmitPending = false;
                _nextRetransmitMicros = long.MaxValue;
                TransactionsTimedOut++;
                if (State == IceControllingState.Checking)
                {
                    State = IceControllingState.Failed;
                    return;
                }
            }
        }
        if (nowMicros >= _nextCheckMicros)
        {
            StartTransaction(nowMicros);
            // RFC 7675 §5.1: consent checks at a randomised 0.8-1.2 × interval; none until connected.
            _nextCheckMicros = State == IceControllingState.Connected
                ? nowMicros + (long)(_consentIntervalMicros * (0.8 + 0.4 * _random.NextDouble()))
                : long.MaxValue;
        }
    }

    /// <summary>The check to send to <see cref="Remote"/>, once per (re)transmission.</summary>
    public bool TryPollTransmit(Span<byte> destination, out int length)
    {
        length = 0;
        if (!_transmitPending || destination.Length < _requestLength)
            return false;
        _transmitPending = false;
        _request.AsSpan(0, _requestLength).CopyTo(destination);
        length = _requestLength;
        return true;
    }

    /// <summary>A STUN datagram from <paramref name="from"/>; true when it was the response to our check and accepted.</summary>
    public bool HandleStun(ReadOnlySpan<byte> datagram, in NetAddress from, long nowMicros)
    {
        if (!StunMessageView.TryRead(datagram, out var m) || m.Method != StunMethod.Binding
            || m.Class is not (StunClass.SuccessResponse or StunClass.ErrorResponse))
            return Reject();
        if (!_transactionActive || !m.TransactionId.SequenceEqual(_transactionId) || from != Remote)
            return Reject();
        if (!m.HasFingerprint || !m.VerifyFingerprint() || !m.HasMessageIntegrity || !m.VerifyMessageIntegrity(_key))
            return Reject();
        _transactionActive = false;
        _transmitPending = false;
        _nextRetransmitMicros = long.MaxValue;
        if (m.Class == StunClass.ErrorResponse)
        {
            // 487 would ask us to switch roles, which a client of a lite server never does; any error fails the pair.
            ErrorResponses++;
            if (State == IceControllingState.Checking)
                State = IceControllingState.Failed;
            return false;
        }
        ResponsesAccepted++;
        if (m.TryGetXorMappedAddress(out var mapped))
            MappedAddress = mapped;
        if (_transmissions == 1)
            RttMicros = nowMicros - _firstSentMicros;
        _lastConsentMicros = nowMicros;
        if (State == IceControllingState.Checking)
        {
            State = IceControllingState.Connected;
            _nextCheckMicros = nowMicros + (long)(_consentIntervalMicros * (0.8 + 0.4 * _random.NextDouble()));
        }
        return true;
    }

    private void StartTransaction(long nowMicros)
    {
        _random.NextBytes(_transactionId);
        var w = new StunMessageWriter(_request, StunMethod.Binding, StunClass.Request, _transactionId);
        w.AddUsername(_username);
        w.AddPriority(_priority);
        w.AddIceControlling(_tieBreaker);
        w.AddUseCandidate();
        w.AddMessageIntegrity(_key);
        w.AddFingerprint();
        if (w.Failed)
            return;
        _requestLength = w.Length;
        _transactionActive = true;
        _transmitPending = true;
        _transmissions = 1;
        RequestsSent++;
        _rtoMicros = _initialRtoMicros;
        _firstSentMicros = nowMicros;
        _nextRetransmitMicros = nowMicros + _rtoMicros;
    }

    private bool Reject()
    {
        ResponsesRejected++;
        return false;
    }
}

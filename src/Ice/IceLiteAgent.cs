namespace Engine.Ice;

/// <summary>
/// The responder side of ICE for a lite implementation (RFC 8445 §2.5, §7.3): verifies the
/// browser's connectivity checks with the short-term credentials from SDP, answers with
/// XOR-MAPPED-ADDRESS, and picks the path media uses: the first address with a valid check, then the
/// latest one the controlling agent nominates with USE-CANDIDATE. Every valid check from the selected
/// address renews consent (RFC 7675); without one for the consent timeout the session must end.
/// Sans-IO and allocation-free.
/// </summary>
public sealed class IceLiteAgent
{
    public const long DefaultConsentTimeoutMicros = 30_000_000; // RFC 7675 §5.1

    private static readonly StunAttributeType[] Understood =
    {
        StunAttributeType.Username, StunAttributeType.MessageIntegrity, StunAttributeType.MessageIntegritySha256,
        StunAttributeType.Fingerprint, StunAttributeType.Priority, StunAttributeType.UseCandidate,
        StunAttributeType.IceControlling, StunAttributeType.IceControlled,
    };

    private readonly byte[] _expectedUsername;
    private readonly StunMessageIntegrityKey _key;
    private readonly long _consentTimeoutMicros;
    private long _lastConsentMicros;

    public IceLiteAgent(string localUfrag, string localPwd, string remoteUfrag, long nowMicros, long consentTimeoutMicros = DefaultConsentTimeoutMicros)
    {
        _expectedUsername = System.Text.Encoding.UTF8.GetBytes(localUfrag + ":" + remoteUfrag);
        _key = StunMessageIntegrityKey.Create(System.Text.Encoding.UTF8.GetBytes(localPwd));
        _consentTimeoutMicros = consentTimeoutMicros;
        _lastConsentMicros = nowMicros; // the browser gets one timeout to make its first check
    }

    /// <summary>Where media goes and comes from; null until a valid check arrived.</summary>
    public NetAddress? Selected { get; private set; }
    public bool Nominated { get; private set; }
    public IceCounters Counters { get; } = new();

    /// <summary>When consent runs out if no valid check from the selected path arrives.</summary>
    public long ConsentDeadlineMicros => _lastConsentMicros + _consentTimeoutMicros;

    public bool ConsentExpired(long nowMicros) => nowMicros >= ConsentDeadlineMicros;

    /// <summary>
    /// Handles one STUN datagram from <paramref name="from"/>. When the result is Answered or
    /// ErrorAnswered, <paramref name="response"/> holds <paramref name="responseLength"/> bytes to send back.
    /// </summary>
    public IceCheckResult HandleStun(ReadOnlySpan<byte> datagram, in NetAddress from, long nowMicros, Span<byte> response, out int responseLength)
    {
        responseLength = 0;
        if (!StunMessageView.TryRead(datagram, out var m))
            return Count(IceCheckResult.Malformed);
        if (m.Method != StunMethod.Binding || m.Class != StunClass.Request)
            return Count(IceCheckResult.Ignored);
        // RFC 8445 §7.3: FINGERPRINT is mandatory for ICE; check it before spending an HMAC.
        if (!m.HasFingerprint || !m.VerifyFingerprint())
            return Count(IceCheckResult.Malformed);
        if (!m.TryGetUsername(out var username) || !username.SequenceEqual(_expectedUsername))
            return Count(IceCheckResult.WrongUsername);
        if (!m.HasMessageIntegrity || !m.VerifyMessageIntegrity(_key))
            return Count(IceCheckResult.BadIntegrity);

        Span<StunAttributeType> unknown = stackalloc StunAttributeType[8];
        // The count is of all unknown attributes, which may exceed the slots written (found by fuzz/).
        int unknownCount = Math.Min(m.GetUnknownComprehensionRequired(Understood, unknown), unknown.Length);
        if (unknownCount > 0)
        {
            // RFC 8489 §6.3.1.1: 420 listing what we did not understand.
            var w = new StunMessageWriter(response, StunMethod.Binding, StunClass.ErrorResponse, m.TransactionId);
            w.AddErrorCode(StunErrorCode.UnknownAttribute, "Unknown Attribute"u8);
            w.AddUnknownAttributes(unknown[..unknownCount]);
            return Finish(ref w, IceCheckResult.ErrorAnswered, out responseLength);
        }
        if (m.TryGetIceControlled(out _))
        {
            // RFC 8445 §7.3.1.1: a lite agent is always controlled; a controlled peer is a role
            // conflict we cannot resolve by switching, so the peer must.
            var w = new StunMessageWriter(response, StunMethod.Binding, StunClass.ErrorResponse, m.TransactionId);
            w.AddErrorCode(StunErrorCode.RoleConflict, "Role Conflict"u8);
            return Finish(ref w, IceCheckResult.ErrorAnswered, out responseLength);
        }

        bool useCandidate = m.HasUseCandidate;
        if (Selected is not { } current)
        {
            Selected = from;
            Nominated = useCandidate;
        }
        else if (useCandidate && (!Nominated || current != from))
        {
            // The controlling agent nominated (or moved to) this path: media follows it.
            if (current != from)
                Counters.PathSwitches++;
            Selected = from;
            Nominated = true;
        }
        if (Selected == from)
            _lastConsentMicros = nowMicros;

        var ok = new StunMessageWriter(response, StunMethod.Binding, StunClass.SuccessResponse, m.TransactionId);
        ok.AddXorMappedAddress(from);
        return Finish(ref ok, IceCheckResult.Answered, out responseLength);
    }

    private IceCheckResult Finish(ref StunMessageWriter w, IceCheckResult result, out int length)
    {
        w.AddMessageIntegrity(_key);
        w.AddFingerprint();
        if (w.Failed)
        {
            length = 0;
            return Count(IceCheckResult.Malformed);
        }
        length = w.Length;
        return Count(result);
    }

    private IceCheckResult Count(IceCheckResult r)
    {
        Counters.Add(r);
        return r;
    }
}

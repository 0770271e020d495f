using System.Buffers.Binary;
using System.Security.Cryptography;
using Engine.Dtls.Handshake;
using Engine.Dtls.Record;

namespace Engine.Dtls;

/// <summary>
/// A sans-IO DTLS 1.2 endpoint for DTLS-SRTP (RFC 6347, RFC 5764): datagrams and a time in,
/// datagrams, a next timeout and, once connected, the SRTP profile and keying material out.
/// One instance per peer; not thread-safe (one owner thread per session).
/// </summary>
public sealed partial class DtlsEndpoint : IDisposable
{
    internal const ushort VersionDtls12 = 0xFEFD;
    internal const ushort VersionDtls10 = 0xFEFF;
    private const int MaxPlaintext = 16384;
    private const int MinMtu = 200;

    private readonly DtlsOptions _options;
    private readonly DtlsCertificate _certificate;
    private readonly DatagramQueue _transmit = new(8);
    private readonly DatagramQueue _received = new(8);
    private readonly HandshakeReassembler _reassembler = new();
    private readonly Transcript _transcript = new();
    private readonly MessageBuilder _builder = new();
    private readonly List<FlightMessage> _flight = new();
    private readonly byte[] _fragment;
    // Protected records other than application data are small (Finished, alerts): MTU-sized is plenty.
    private readonly byte[] _plaintext;
    private readonly ReplayWindow[] _replay = new ReplayWindow[2];
    private readonly ulong[] _writeSequence = new ulong[2];
    private readonly int _mtu;

    private ushort _readEpoch;
    private ushort _writeEpoch;
    private RecordCipher? _readCipher;
    private RecordCipher? _writeCipher;
    private ulong _lastRecordSequence;

    private bool _flightIsFinal;
    private bool _retransmittedThisDatagram;
    private long _retransmitAtMicros = long.MaxValue;
    private long _retransmitIntervalMicros;
    private int _retransmitCount;

    public DtlsEndpoint(DtlsRole role, DtlsCertificate certificate, DtlsOptions? options = null)
    {
        Role = role;
        _certificate = certificate;
        _options = options ?? new DtlsOptions();
        _mtu = Math.Max(MinMtu, _options.Mtu);
        _fragment = new byte[_mtu];
        _plaintext = new byte[_mtu];
        _signatureScheme = certificate.IsRsa ? RsaPkcs1Sha256 : EcdsaSecp256r1Sha256;
        // Only a server sends cookies (RFC 6347 §4.2.1).
        _cookieSecret = role == DtlsRole.Server ? _options.CookieSecret ?? RandomNumberGenerator.GetBytes(32) : [];
    }

    public DtlsRole Role { get; }

    public DtlsState State { get; private set; }

    public DtlsFailureReason FailureReason { get; private set; }

    /// <summary>The fatal alert the peer sent, when <see cref="FailureReason"/> is <see cref="DtlsFailureReason.PeerAlert"/>.</summary>
    public AlertDescription? PeerAlert { get; private set; }

    public DtlsCounters Counters { get; } = new();

    /// <summary>Negotiated SRTP profile (<see cref="SrtpProtectionProfile"/>), 0 until connected.</summary>
    public ushort SrtpProfile { get; private set; }

    public CipherSuite CipherSuite { get; private set; }

    /// <summary>When to call <see cref="HandleTimeout"/>; <see cref="long.MaxValue"/> when nothing is scheduled.</summary>
    public long NextTimeoutMicros => _retransmitAtMicros;

    /// <summary>The peer's certificate DER once it was received and matched the expected fingerprint.</summary>
    public byte[]? RemoteCertificate { get; private set; }

    /// <summary>Client: sends the first ClientHello. Server: only marks the endpoint as waiting for one.</summary>
    public void Start(long nowMicros)
    {
        if (State != DtlsState.New) return;
        State = DtlsState.Handshaking;
        if (Role == DtlsRole.Client) SendClientHello(nowMicros);
    }

    public void HandleDatagram(ReadOnlySpan<byte> datagram, long nowMicros)
    {
        if (State is DtlsState.Closed or DtlsState.Failed) return;
        if (State == DtlsState.New && Role == DtlsRole.Server) State = DtlsState.Handshaking;
        Counters.DatagramsReceived++;
        _retransmittedThisDatagram = false;
        try
        {
            while (datagram.Length > 0 && State is DtlsState.Handshaking or DtlsState.Connected)
            {
                if (!DtlsRecordView.TryRead(datagram, out DtlsRecordView record))
                {
                    Counters.RecordsDroppedMalformed++;
                    return;
                }
                datagram = datagram[record.TotalLength..];
                Counters.RecordsReceived++;
                HandleRecord(record, nowMicros);
            }
        }
        catch (CryptographicException)
        {
            // A peer key or certificate the platform crypto rejected: a failed handshake, never an escape.
            Fail(DtlsFailureReason.BadCertificate, AlertDescription.BadCertificate);
        }
    }

    public void HandleTimeout(long nowMicros)
    {
        if (nowMicros < _retransmitAtMicros || State != DtlsState.Handshaking) return;
        if (++_retransmitCount > _options.MaxRetransmissions)
        {
            Fail(DtlsFailureReason.Timeout, null);
            return;
        }
        // RFC 6347 §4.2.4.1: double the timer on each retransmission, up to the maximum.
        _retransmitIntervalMicros = Math.Min(_retransmitIntervalMicros * 2, _options.MaxRetransmitMicros);
        _retransmitAtMicros = nowMicros + _retransmitIntervalMicros;
        Counters.Retransmissions++;
        TransmitFlight();
    }

    /// <summary>
    /// Copies the next datagram to send into <paramref name="dst"/>. Returns false with
    /// length 0 when there is none, or false with length = bytes needed when dst is too small.
    /// </summary>
    public bool TryPollTransmit(Span<byte> dst, out int length) => _transmit.TryDequeue(dst, out length);

    /// <summary>Encrypts one application data record (RFC 6347 §4.1). Allocation-free once warmed up.</summary>
    public bool SendApplicationData(ReadOnlySpan<byte> data)
    {
        if (State != DtlsState.Connected || data.Length > MaxPlaintext) return false;
        if (!_transmit.TryBeginWrite(DtlsRecordView.HeaderLength + RecordCipher.Overhead + data.Length, out Span<byte> slot))
        {
            Counters.ApplicationDataDropped++;
            return false;
        }
        _transmit.Commit(WriteRecord(slot, ContentType.ApplicationData, 1, data));
        return true;
    }

    /// <summary>Next received application data record; same buffer contract as <see cref="TryPollTransmit"/>.</summary>
    public bool TryPollApplicationData(Span<byte> dst, out int length) => _received.TryDequeue(dst, out length);

    /// <summary>Sends close_notify (RFC 5246 §7.2.1) and stops.</summary>
    public void Close()
    {
        if (State is DtlsState.Closed or DtlsState.Failed) return;
        if (State == DtlsState.Connected) SendAlert(false, AlertDescription.CloseNotify);
        State = DtlsState.Closed;
        StopRetransmitTimer();
    }

    private void HandleRecord(in DtlsRecordView record, long nowMicros)
    {
        ushort epoch = record.Epoch;
        ulong sequence = record.SequenceNumber;
        // A server still waiting for a cookie keeps no replay state either (RFC 6347 §4.2.1): a restarted
        // client that begins again at sequence 0 must still get its HelloVerifyRequest.
        bool stateless = epoch == 0 && Role == DtlsRole.Server && _serverState == ServerState.ExpectClientHello;
        ReadOnlySpan<byte> plaintext;
        if (epoch == 0)
        {
            // After the peer's ChangeCipherSpec only handshake retransmissions may still come in clear.
            if (_readEpoch > 0 && record.ContentType != ContentType.Handshake)
            {
                Counters.RecordsDroppedEpoch++;
                return;
            }
            if (!stateless && !_replay[0].IsFresh(sequence))
            {
                Counters.RecordsDroppedReplay++;
                return;
            }
            plaintext = record.Fragment;
        }
        else if (epoch == 1 && _readEpoch == 1 && _readCipher != null)
        {
            // RFC 6347 §4.1.2.6: check the window first, mark it only once the record authenticated.
            if (!_replay[1].IsFresh(sequence))
            {
                Counters.RecordsDroppedReplay++;
                return;
            }
            if (record.ContentType == ContentType.ApplicationData)
            {
                HandleApplicationData(record);
                return;
            }
            if (record.Fragment.Length - RecordCipher.Overhead > _plaintext.Length)
            {
                Counters.RecordsDroppedUnexpected++;
                return;
            }
            if (!_readCipher.TryOpen(record.EpochAndSequence, record.ContentType, record.Fragment, _plaintext, out int length))
            {
                Counters.RecordsDroppedBadMac++;
                return;
            }
            plaintext = _plaintext.AsSpan(0, length);
        }
        else
        {
            // A future epoch (Finished overtaking ChangeCipherSpec) is dropped; retransmission repairs it.
            Counters.RecordsDroppedEpoch++;
            return;
        }
        if (!stateless) _replay[epoch].Mark(sequence);
        _lastRecordSequence = sequence;

        switch (record.ContentType)
        {
            case ContentType.Handshake:
                HandleHandshakeRecord(plaintext, epoch, nowMicros);
                break;
            case ContentType.ChangeCipherSpec:
                HandleChangeCipherSpec(plaintext);
                break;
            case ContentType.Alert:
                HandleAlert(plaintext);
                break;
            case ContentType.ApplicationData:
                Counters.RecordsDroppedUnexpected++; // in clear: never valid
                break;
        }
    }

    /// <summary>Decrypts straight into the receive queue's slot: one copy less on the hot path, and nothing allocated.</summary>
    private void HandleApplicationData(in DtlsRecordView record)
    {
        if (State != DtlsState.Connected)
        {
            Counters.RecordsDroppedUnexpected++;
            return;
        }
        if (!_received.TryBeginWrite(Math.Max(0, record.Fragment.Length - RecordCipher.Overhead), out Span<byte> slot))
        {
            Counters.ApplicationDataDropped++;
            return;
        }
        if (!_readCipher!.TryOpen(record.EpochAndSequence, record.ContentType, record.Fragment, slot, out int length))
        {
            Counters.RecordsDroppedBadMac++;
            return;
        }
        _replay[1].Mark(record.SequenceNumber);
        _received.Commit(length);
    }

    private void HandleHandshakeRecord(ReadOnlySpan<byte> data, ushort epoch, long nowMicros)
    {
        while (data.Length > 0 && State is DtlsState.Handshaking or DtlsState.Connected)
        {
            if (!HandshakeFragmentView.TryRead(data, out HandshakeFragmentView fragment))
            {
                Counters.HandshakeFragmentsDropped++;
                return;
            }
            data = data[fragment.TotalLength..];
            HandleFragment(fragment, epoch, nowMicros);
        }
    }

    private void HandleFragment(in HandshakeFragmentView fragment, ushort epoch, long nowMicros)
    {
        if (State == DtlsState.Connected)
        {
            HandleFragmentAfterHandshake(fragment, epoch);
            return;
        }
        if (Role == DtlsRole.Server && _serverState == ServerState.ExpectClientHello)
        {
            // RFC 6347 §4.2.1: a retransmitted or cookie-bearing ClientHello may carry any message_seq.
            if (fragment.Type != HandshakeType.ClientHello)
            {
                Counters.HandshakeFragmentsDropped++;
                return;
            }
            if (fragment.MessageSeq != _reassembler.NextSequence) _reassembler.Reset(fragment.MessageSeq);
        }
        if (fragment.MessageSeq < _reassembler.NextSequence)
        {
            // The peer retransmitted a flight we already have; our own timer handles our side.
            Counters.HandshakeDuplicates++;
            return;
        }
        if (fragment.IsComplete && fragment.MessageSeq == _reassembler.NextSequence)
        {
            _reassembler.Skip();
            ProcessMessage(fragment.Type, fragment.MessageSeq, fragment.Body, epoch, nowMicros);
        }
        else
        {
            ReassemblyResult result = _reassembler.Add(fragment, epoch);
            if (result == ReassemblyResult.Duplicate) Counters.HandshakeDuplicates++;
            else if (result != ReassemblyResult.Buffered) Counters.HandshakeFragmentsDropped++;
        }
        while (State == DtlsState.Handshaking
            && _reassembler.TryTake(out HandshakeType type, out ushort seq, out ushort messageEpoch, out ReadOnlySpan<byte> body))
        {
            ProcessMessage(type, seq, body, messageEpoch, nowMicros);
        }
    }

    private void HandleFragmentAfterHandshake(in HandshakeFragmentView fragment, ushort epoch)
    {
        // RFC 6347 §4.2.2: a rehandshake restarts message_seq at 0, so it is told apart from a
        // retransmission by being a new hello under the new epoch. We refuse it (RFC 5746 §4.2).
        if (epoch == 1 && fragment.Type is HandshakeType.ClientHello or HandshakeType.HelloRequest)
        {
            Counters.RecordsDroppedUnexpected++;
            if (fragment.FragmentOffset == 0) SendAlert(false, AlertDescription.NoRenegotiation); // once per hello, not per fragment
            return;
        }
        if (fragment.MessageSeq < _reassembler.NextSequence)
        {
            // RFC 6347 §4.2.4: the peer did not get our final flight and retransmitted its own.
            Counters.HandshakeDuplicates++;
            if (_flightIsFinal && !_retransmittedThisDatagram)
            {
                _retransmittedThisDatagram = true;
                Counters.Retransmissions++;
                TransmitFlight();
            }
            return;
        }
        Counters.RecordsDroppedUnexpected++;
    }

    private void ProcessMessage(HandshakeType type, ushort seq, ReadOnlySpan<byte> body, ushort epoch, long nowMicros)
    {
        // RFC 6347 §4.2.1/§7.4.9: only Finished is protected; anything else under epoch 1 is out of place.
        if ((type == HandshakeType.Finished) != (epoch == 1))
        {
            Fail(DtlsFailureReason.UnexpectedMessage, AlertDescription.UnexpectedMessage);
            return;
        }
        if (Role == DtlsRole.Server) ProcessServerMessage(type, seq, body, nowMicros);
        else ProcessClientMessage(type, seq, body, nowMicros);
    }

    private bool ExpectingChangeCipherSpec => _readEpoch == 0 && (Role == DtlsRole.Server
        ? _serverState == ServerState.ExpectFinished
        : _clientState == ClientState.ExpectFinished);

    private void HandleChangeCipherSpec(ReadOnlySpan<byte> data)
    {
        // RFC 5246 §7.1: exactly one byte of value 1; only when the next keys are ready.
        if (data.Length != 1 || data[0] != 1 || _pendingReadCipher == null || !ExpectingChangeCipherSpec)
        {
            Counters.RecordsDroppedUnexpected++;
            return;
        }
        _readCipher = _pendingReadCipher;
        _pendingReadCipher = null;
        _readEpoch = 1;
    }

    private void HandleAlert(ReadOnlySpan<byte> data)
    {
        if (data.Length != 2)
        {
            Counters.RecordsDroppedMalformed++;
            return;
        }
        Counters.AlertsReceived++;
        var description = (AlertDescription)data[1];
        if (description == AlertDescription.CloseNotify)
        {
            // RFC 5246 §7.2.1: answer with our own close_notify.
            if (State == DtlsState.Connected) SendAlert(false, AlertDescription.CloseNotify);
            State = DtlsState.Closed;
            StopRetransmitTimer();
        }
        else if (data[0] == 2)
        {
            PeerAlert = description;
            FailureReason = DtlsFailureReason.PeerAlert;
            State = DtlsState.Failed;
            StopRetransmitTimer();
        }
    }

    private void Fail(DtlsFailureReason reason, AlertDescription? alert)
    {
        if (State is DtlsState.Failed or DtlsState.Closed) return;
        if (alert is { } a) SendAlert(true, a);
        FailureReason = reason;
        State = DtlsState.Failed;
        StopRetransmitTimer();
        _flight.Clear();
    }

    private void SendAlert(bool fatal, AlertDescription description)
    {
        Span<byte> alert = stackalloc byte[2];
        alert[0] = fatal ? (byte)2 : (byte)1;
        alert[1] = (byte)description;
        if (!_transmit.TryBeginWrite(DtlsRecordView.HeaderLength + RecordCipher.Overhead + 2, out Span<byte> slot)) return;
        _transmit.Commit(WriteRecord(slot, ContentType.Alert, _writeEpoch, alert));
        Counters.AlertsSent++;
    }

    private int WriteRecord(Span<byte> dst, ContentType type, ushort epoch, ReadOnlySpan<byte> plaintext)
    {
        ulong epochAndSequence = ((ulong)epoch << 48) | _writeSequence[epoch]++;
        dst[0] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(dst[1..], VersionDtls12);
        BinaryPrimitives.WriteUInt64BigEndian(dst[3..], epochAndSequence);
        int length;
        if (epoch == 0)
        {
            plaintext.CopyTo(dst[DtlsRecordView.HeaderLength..]);
            length = plaintext.Length;
        }
        else
        {
            length = _writeCipher!.Seal(epochAndSequence, type, plaintext, dst[DtlsRecordView.HeaderLength..]);
        }
        BinaryPrimitives.WriteUInt16BigEndian(dst[11..], (ushort)length);
        return DtlsRecordView.HeaderLength + length;
    }

    private void AddToFlight(HandshakeType type, byte[] body)
    {
        ushort seq = _nextSendSequence++;
        _flight.Add(new FlightMessage(ContentType.Handshake, _writeEpoch, type, seq, body));
        _transcript.Add(type, seq, body);
    }

    /// <summary>Test hook: flips a bit of our own Finished so the peer's check can be exercised.</summary>
    internal bool CorruptOwnFinishedForTest { get; set; }

    private void AddFinishedToFlight(bool client)
    {
        byte[] verifyData = ComputeVerifyData(client);
        if (CorruptOwnFinishedForTest) verifyData[0] ^= 1;
        AddToFlight(HandshakeType.Finished, verifyData);
    }

    private void AddChangeCipherSpecToFlight()
    {
        _flight.Add(new FlightMessage(ContentType.ChangeCipherSpec, _writeEpoch, default, 0, []));
        _writeCipher = _pendingWriteCipher;
        _pendingWriteCipher = null;
        _writeEpoch = 1;
    }

    private void StartFlight(long nowMicros, bool final)
    {
        _flightIsFinal = final;
        _retransmitCount = 0;
        _retransmitIntervalMicros = _options.InitialRetransmitMicros;
        // The final flight is not timed: it is resent only when the peer repeats its flight (RFC 6347 §4.2.4).
        _retransmitAtMicros = final ? long.MaxValue : nowMicros + _retransmitIntervalMicros;
        TransmitFlight();
    }

    private void StopRetransmitTimer() => _retransmitAtMicros = long.MaxValue;

    /// <summary>Packs the flight into datagrams of at most the MTU, fragmenting messages as needed (RFC 6347 §4.2.3).</summary>
    private void TransmitFlight()
    {
        Span<byte> datagram = default;
        int used = 0;
        bool open = false;
        foreach (FlightMessage m in _flight)
        {
            int overhead = DtlsRecordView.HeaderLength + (m.Epoch > 0 ? RecordCipher.Overhead : 0);
            if (m.ContentType == ContentType.ChangeCipherSpec)
            {
                if (!open || _mtu - used < overhead + 1)
                {
                    if (!OpenDatagram(ref open, ref used, out datagram)) return;
                }
                used += WriteRecord(datagram[used..], ContentType.ChangeCipherSpec, m.Epoch, [1]);
                continue;
            }
            int offset = 0;
            int total = m.Body.Length;
            do
            {
                int room = _mtu - used - overhead - HandshakeFragmentView.HeaderLength;
                int remaining = total - offset;
                // Do not start a tiny fragment at the end of a datagram: open a new one instead.
                if (!open || room < Math.Min(remaining, 64))
                {
                    if (!OpenDatagram(ref open, ref used, out datagram)) return;
                    room = _mtu - overhead - HandshakeFragmentView.HeaderLength;
                }
                int length = Math.Min(remaining, room);
                Span<byte> f = _fragment;
                f[0] = (byte)m.Type;
                Transcript.WriteUInt24(f[1..], total);
                BinaryPrimitives.WriteUInt16BigEndian(f[4..], m.MessageSeq);
                Transcript.WriteUInt24(f[6..], offset);
                Transcript.WriteUInt24(f[9..], length);
                m.Body.AsSpan(offset, length).CopyTo(f[HandshakeFragmentView.HeaderLength..]);
                used += WriteRecord(datagram[used..], ContentType.Handshake, m.Epoch, f[..(HandshakeFragmentView.HeaderLength + length)]);
                offset += length;
            }
            while (offset < total);
        }
        if (open) _transmit.Commit(used);
    }

    private bool OpenDatagram(scoped ref bool open, scoped ref int used, out Span<byte> datagram)
    {
        if (open) _transmit.Commit(used);
        used = 0;
        open = _transmit.TryBeginWrite(_mtu, out datagram);
        return open;
    }

    public void Dispose()
    {
        _readCipher?.Dispose();
        _writeCipher?.Dispose();
        _pendingReadCipher?.Dispose();
        _pendingWriteCipher?.Dispose();
        _ecdh?.Dispose();
        _peerKey?.Dispose();
        CryptographicOperations.ZeroMemory(_masterSecret);
    }
}

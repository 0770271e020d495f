using System.Buffers.Binary;
using System.Security.Cryptography;
using Engine.Dtls.Handshake;
using Engine.Dtls.Record;

namespace Engine.Dtls;

// Server role: flights 2, 4 and 6 of RFC 6347 §4.2.4 (HelloVerifyRequest; ServerHello..ServerHelloDone; CCS + Finished).
public sealed partial class DtlsEndpoint
{
    private ServerState _serverState;
    private bool _echoRenegotiationInfo;
    private bool _echoPointFormats;

    private enum ServerState
    {
        ExpectClientHello,
        ExpectCertificate,
        ExpectClientKeyExchange,
        ExpectCertificateVerify,
        ExpectFinished,
        Done,
    }

    private void ProcessServerMessage(HandshakeType type, ushort seq, ReadOnlySpan<byte> body, long nowMicros)
    {
        switch (_serverState)
        {
            case ServerState.ExpectClientHello when type == HandshakeType.ClientHello:
                OnClientHello(seq, body, nowMicros);
                break;
            case ServerState.ExpectCertificate when type == HandshakeType.Certificate:
                if (!TryAcceptCertificate(body)) return;
                _transcript.Add(type, seq, body);
                _serverState = ServerState.ExpectClientKeyExchange;
                break;
            case ServerState.ExpectClientKeyExchange when type == HandshakeType.ClientKeyExchange:
                OnClientKeyExchange(seq, body);
                break;
            case ServerState.ExpectCertificateVerify when type == HandshakeType.CertificateVerify:
                // RFC 5246 §7.4.8: the signature covers every handshake message before this one.
                if (!TryReadSignature(body, out ushort scheme, out ReadOnlySpan<byte> signature))
                {
                    Fail(DtlsFailureReason.DecodeError, AlertDescription.DecodeError);
                    return;
                }
                if (!VerifyPeerSignature(scheme, _transcript.Messages, signature))
                {
                    Fail(DtlsFailureReason.BadSignature, AlertDescription.DecryptError);
                    return;
                }
                _transcript.Add(type, seq, body);
                _serverState = ServerState.ExpectFinished;
                break;
            case ServerState.ExpectFinished when type == HandshakeType.Finished:
                OnClientFinished(seq, body, nowMicros);
                break;
            default:
                Fail(DtlsFailureReason.UnexpectedMessage, AlertDescription.UnexpectedMessage);
                break;
        }
    }

    private void OnClientHello(ushort seq, ReadOnlySpan<byte> body, long nowMicros)
    {
        if (!ClientHelloView.TryRead(body, out ClientHelloView hello))
        {
            // Still stateless: a garbled ClientHello is dropped, not answered.
            Counters.HandshakeFragmentsDropped++;
            return;
        }
        Span<byte> cookie = stackalloc byte[32];
        ComputeCookie(hello, cookie);
        if (_options.RequireCookie && !CryptographicOperations.FixedTimeEquals(hello.Cookie, cookie))
        {
            SendHelloVerifyRequest(seq, cookie);
            return;
        }
        // DTLS versions count down: 0xFEFD (1.2) is newer than 0xFEFF (1.0).
        if (hello.ClientVersion > VersionDtls12)
        {
            Fail(DtlsFailureReason.HandshakeFailure, AlertDescription.ProtocolVersion);
            return;
        }
        CipherSuite suite = CipherSuite.None;
        foreach (CipherSuite candidate in _options.CipherSuites)
        {
            if (IsRsaSuite(candidate) == _certificate.IsRsa && hello.OffersCipherSuite((ushort)candidate))
            {
                suite = candidate;
                break;
            }
        }
        bool groupOk = !hello.TryGetSupportedGroups(out ReadOnlySpan<byte> groups) || HelloExtensions.ContainsU16(groups, NamedCurveSecp256r1);
        _echoPointFormats = hello.TryGetExtension(ExtensionType.EcPointFormats, out ReadOnlySpan<byte> formats);
        bool formatOk = !_echoPointFormats || (formats.Length >= 2 && formats[1..].Contains((byte)0));
        ushort profile = 0;
        if (hello.TryGetSrtpProfiles(out ReadOnlySpan<byte> offered))
        {
            foreach (ushort candidate in _options.SrtpProfiles)
            {
                if (HelloExtensions.ContainsU16(offered, candidate))
                {
                    profile = candidate;
                    break;
                }
            }
        }
        _extendedMasterSecret = hello.OffersExtendedMasterSecret;
        if (suite == CipherSuite.None || !groupOk || !formatOk || profile == 0 || !hello.CompressionMethods.Contains((byte)0)
            || (_options.RequireExtendedMasterSecret && !_extendedMasterSecret))
        {
            Fail(DtlsFailureReason.HandshakeFailure, AlertDescription.HandshakeFailure);
            return;
        }
        // RFC 5746 §3.6: answer the SCSV or an empty renegotiation_info with an empty one.
        _echoRenegotiationInfo = hello.OffersCipherSuite(0x00FF) || hello.TryGetExtension(ExtensionType.RenegotiationInfo, out _);
        SetCipherSuite(suite);
        SrtpProfile = profile;
        _signatureScheme = ChooseSignatureScheme(
            hello.TryGetExtension(ExtensionType.SignatureAlgorithms, out ReadOnlySpan<byte> algorithms)
            && HelloExtensions.TryReadU16List(algorithms, out ReadOnlySpan<byte> schemes, out _) ? schemes : default);
        hello.Random.CopyTo(_clientRandom);
        RandomNumberGenerator.Fill(_serverRandom);
        // RFC 6347 §4.2.2: after a HelloVerifyRequest both sides continue at the ClientHello's message_seq.
        _nextSendSequence = seq;
        // RFC 6347 §4.2.6: the transcript starts at the ClientHello that carried the cookie.
        _transcript.Reset();
        _transcript.Add(HandshakeType.ClientHello, seq, body);
        BuildServerFlight();
        _serverState = ServerState.ExpectCertificate;
        StartFlight(nowMicros, final: false);
    }

    /// <summary>
    /// Cookie = HMAC(secret, client random | cipher suites): a client that can receive at its address echoes
    /// it back, and checking it needs no state (RFC 6347 §4.2.1).
    /// </summary>
    private void ComputeCookie(in ClientHelloView hello, Span<byte> cookie)
    {
        Span<byte> input = stackalloc byte[32 + 256];
        hello.Random.CopyTo(input);
        ReadOnlySpan<byte> suites = hello.CipherSuites.Length > 256 ? hello.CipherSuites[..256] : hello.CipherSuites;
        suites.CopyTo(input[32..]);
        HMACSHA256.HashData(_cookieSecret, input[..(32 + suites.Length)], cookie);
    }

    private void SendHelloVerifyRequest(ushort seq, ReadOnlySpan<byte> cookie)
    {
        // server_version(2) cookie<0..2^8-1>; RFC 6347 §4.2.1 says use DTLS 1.0 here whatever follows.
        Span<byte> message = stackalloc byte[HandshakeFragmentView.HeaderLength + 3 + 32];
        int bodyLength = 3 + cookie.Length;
        message[0] = (byte)HandshakeType.HelloVerifyRequest;
        Transcript.WriteUInt24(message[1..], bodyLength);
        BinaryPrimitives.WriteUInt16BigEndian(message[4..], seq);
        Transcript.WriteUInt24(message[6..], 0);
        Transcript.WriteUInt24(message[9..], bodyLength);
        BinaryPrimitives.WriteUInt16BigEndian(message[12..], VersionDtls10);
        message[14] = (byte)cookie.Length;
        cookie.CopyTo(message[15..]);
        if (!_transmit.TryBeginWrite(DtlsRecordView.HeaderLength + message.Length, out Span<byte> slot)) return;
        // RFC 6347 §4.2.1: reuse the ClientHello's record sequence number, so we keep no counter per spoofer.
        ulong next = _writeSequence[0];
        _writeSequence[0] = _lastRecordSequence;
        _transmit.Commit(WriteRecord(slot, ContentType.Handshake, 0, message[..(HandshakeFragmentView.HeaderLength + bodyLength)]));
        _writeSequence[0] = Math.Max(next, _lastRecordSequence + 1);
        Counters.HelloVerifyRequestsSent++;
    }

    private void BuildServerFlight()
    {
        _flight.Clear();
        MessageBuilder b = _builder;
        b.Clear();
        b.U16(VersionDtls12);
        b.Bytes(_serverRandom);
        b.U8(0); // no session id: we do not resume
        b.U16((ushort)CipherSuite);
        b.U8(0);
        int extensions = b.BeginLength(2);
        if (_extendedMasterSecret)
        {
            b.U16((ushort)ExtensionType.ExtendedMasterSecret);
            b.U16(0);
        }
        if (_echoRenegotiationInfo)
        {
            b.U16((ushort)ExtensionType.RenegotiationInfo);
            b.U16(1);
            b.U8(0);
        }
        if (_echoPointFormats)
        {
            b.U16((ushort)ExtensionType.EcPointFormats);
            b.U16(2);
            b.U8(1);
            b.U8(0);
        }
        b.U16((ushort)ExtensionType.UseSrtp);
        b.U16(5);
        b.U16(2);
        b.U16(SrtpProfile);
        b.U8(0);
        b.EndLength(extensions, 2);
        AddToFlight(HandshakeType.ServerHello, b.ToArray());

        AddToFlight(HandshakeType.Certificate, BuildCertificateBody());

        // RFC 8422 §5.4: ServerECDHParams signed together with both randoms.
        byte[] point = CreateEphemeralKey();
        b.Clear();
        b.Bytes(_clientRandom);
        b.Bytes(_serverRandom);
        b.U8(3); // named_curve
        b.U16(NamedCurveSecp256r1);
        b.U8(point.Length);
        b.Bytes(point);
        byte[] signature = Sign(b.Written);
        b.U16(_signatureScheme);
        b.U16(signature.Length);
        b.Bytes(signature);
        AddToFlight(HandshakeType.ServerKeyExchange, b.Written[64..].ToArray());

        // RFC 5246 §7.4.4: rsa_sign and ecdsa_sign, the signature schemes we verify, no CA names.
        b.Clear();
        b.U8(2);
        b.U8(1);
        b.U8(64);
        b.U16(VerifiedSchemes.Length);
        b.Bytes(VerifiedSchemes);
        b.U16(0);
        AddToFlight(HandshakeType.CertificateRequest, b.ToArray());
        AddToFlight(HandshakeType.ServerHelloDone, []);
    }

    private void OnClientKeyExchange(ushort seq, ReadOnlySpan<byte> body)
    {
        // RFC 8422 §5.7: ECPoint ecdh_Yc<1..2^8-1>.
        if (body.Length < 2 || body[0] != body.Length - 1)
        {
            Fail(DtlsFailureReason.DecodeError, AlertDescription.DecodeError);
            return;
        }
        byte[]? preMaster = DerivePreMasterSecret(body[1..]);
        if (preMaster == null)
        {
            Fail(DtlsFailureReason.HandshakeFailure, AlertDescription.IllegalParameter);
            return;
        }
        // RFC 7627 §3: the session hash runs up to and including ClientKeyExchange.
        _transcript.Add(HandshakeType.ClientKeyExchange, seq, body);
        DeriveKeys(preMaster);
        _serverState = ServerState.ExpectCertificateVerify;
    }

    private void OnClientFinished(ushort seq, ReadOnlySpan<byte> body, long nowMicros)
    {
        if (!CheckFinished(body, fromClient: true)) return;
        _transcript.Add(HandshakeType.Finished, seq, body);
        _flight.Clear();
        AddChangeCipherSpecToFlight();
        AddFinishedToFlight(client: false);
        _serverState = ServerState.Done;
        OnConnected();
        StartFlight(nowMicros, final: true);
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using Engine.Dtls.Handshake;

namespace Engine.Dtls;

// Client role: flights 1, 3 and 5 of RFC 6347 §4.2.4.
public sealed partial class DtlsEndpoint
{
    private const int MaxHelloVerifyRequests = 4;

    private ClientState _clientState;
    private byte[] _cookie = [];
    private int _helloVerifyCount;
    private bool _certificateRequested;
    private byte[]? _serverPoint;

    private enum ClientState
    {
        ExpectServerHello,
        ExpectCertificate,
        ExpectServerKeyExchange,
        ExpectCertificateRequestOrDone,
        ExpectServerHelloDone,
        ExpectFinished,
        Done,
    }

    private void SendClientHello(long nowMicros)
    {
        if (_helloVerifyCount == 0) RandomNumberGenerator.Fill(_clientRandom);
        MessageBuilder b = _builder;
        b.Clear();
        b.U16(VersionDtls12);
        b.Bytes(_clientRandom);
        b.U8(0);
        b.U8(_cookie.Length);
        b.Bytes(_cookie);
        b.U16(2 * _options.CipherSuites.Length);
        foreach (CipherSuite suite in _options.CipherSuites) b.U16((ushort)suite);
        b.U8(1);
        b.U8(0);
        int extensions = b.BeginLength(2);
        b.U16((ushort)ExtensionType.ExtendedMasterSecret);
        b.U16(0);
        b.U16((ushort)ExtensionType.RenegotiationInfo);
        b.U16(1);
        b.U8(0);
        b.U16((ushort)ExtensionType.SupportedGroups);
        b.U16(4);
        b.U16(2);
        b.U16(NamedCurveSecp256r1);
        b.U16((ushort)ExtensionType.EcPointFormats);
        b.U16(2);
        b.U8(1);
        b.U8(0);
        b.U16((ushort)ExtensionType.SignatureAlgorithms);
        b.U16(2 + VerifiedSchemes.Length);
        b.U16(VerifiedSchemes.Length);
        b.Bytes(VerifiedSchemes);
        b.U16((ushort)ExtensionType.UseSrtp);
        b.U16(2 + 2 * _options.SrtpProfiles.Length + 1);
        b.U16(2 * _options.SrtpProfiles.Length);
        foreach (ushort profile in _options.SrtpProfiles) b.U16(profile);
        b.U8(0);
        b.EndLength(extensions, 2);
        _flight.Clear();
        _transcript.Reset();
        AddToFlight(HandshakeType.ClientHello, b.ToArray());
        _clientState = ClientState.ExpectServerHello;
        StartFlight(nowMicros, final: false);
    }

    private void ProcessClientMessage(HandshakeType type, ushort seq, ReadOnlySpan<byte> body, long nowMicros)
    {
        switch (_clientState)
        {
            case ClientState.ExpectServerHello when type == HandshakeType.HelloVerifyRequest:
                OnHelloVerifyRequest(body, nowMicros);
                break;
            case ClientState.ExpectServerHello when type == HandshakeType.ServerHello:
                OnServerHello(seq, body);
                break;
            case ClientState.ExpectCertificate when type == HandshakeType.Certificate:
                if (!TryAcceptCertificate(body)) return;
                _transcript.Add(type, seq, body);
                _clientState = ClientState.ExpectServerKeyExchange;
                break;
            case ClientState.ExpectServerKeyExchange when type == HandshakeType.ServerKeyExchange:
                OnServerKeyExchange(seq, body);
                break;
            case ClientState.ExpectCertificateRequestOrDone when type == HandshakeType.CertificateRequest:
                if (!TryReadCertificateRequest(body, out ReadOnlySpan<byte> schemes))
                {
                    Fail(DtlsFailureReason.DecodeError, AlertDescription.DecodeError);
                    return;
                }
                _signatureScheme = ChooseSignatureScheme(schemes);
                _certificateRequested = true;
                _transcript.Add(type, seq, body);
                _clientState = ClientState.ExpectServerHelloDone;
                break;
            case ClientState.ExpectCertificateRequestOrDone or ClientState.ExpectServerHelloDone when type == HandshakeType.ServerHelloDone:
                OnServerHelloDone(seq, body, nowMicros);
                break;
            case ClientState.ExpectFinished when type == HandshakeType.Finished:
                if (!CheckFinished(body, fromClient: false)) return;
                _clientState = ClientState.Done;
                _flight.Clear();
                StopRetransmitTimer();
                OnConnected();
                break;
            default:
                Fail(DtlsFailureReason.UnexpectedMessage, AlertDescription.UnexpectedMessage);
                break;
        }
    }

    private void OnHelloVerifyRequest(ReadOnlySpan<byte> body, long nowMicros)
    {
        // RFC 6347 §4.2.1: server_version(2) cookie<0..2^8-1>.
        if (body.Length < 3 || body[2] != body.Length - 3 || body.Length - 3 > 255)
        {
            Fail(DtlsFailureReason.DecodeError, AlertDescription.DecodeError);
            return;
        }
        if (++_helloVerifyCount > MaxHelloVerifyRequests)
        {
            Fail(DtlsFailureReason.UnexpectedMessage, AlertDescription.UnexpectedMessage);
            return;
        }
        _cookie = body[3..].ToArray();
        SendClientHello(nowMicros);
    }

    private void OnServerHello(ushort seq, ReadOnlySpan<byte> body)
    {
        if (!ServerHelloView.TryRead(body, out ServerHelloView hello))
        {
            Fail(DtlsFailureReason.DecodeError, AlertDescription.DecodeError);
            return;
        }
        if (hello.ServerVersion != VersionDtls12)
        {
            Fail(DtlsFailureReason.HandshakeFailure, AlertDescription.ProtocolVersion);
            return;
        }
        var suite = (CipherSuite)hello.CipherSuite;
        // use_srtp answer: exactly one profile, one we offered, no MKI (RFC 5764 §4.1.1).
        ushort profile = 0;
        if (hello.TryGetExtension(ExtensionType.UseSrtp, out ReadOnlySpan<byte> srtp)
            && HelloExtensions.TryReadUseSrtp(srtp, out ReadOnlySpan<byte> chosen) && chosen.Length == 2 && srtp[^1] == 0)
        {
            profile = BinaryPrimitives.ReadUInt16BigEndian(chosen);
        }
        _extendedMasterSecret = hello.TryGetExtension(ExtensionType.ExtendedMasterSecret, out _);
        if (Array.IndexOf(_options.CipherSuites, suite) < 0 || hello.CompressionMethod != 0
            || Array.IndexOf(_options.SrtpProfiles, profile) < 0)
        {
            Fail(DtlsFailureReason.HandshakeFailure, AlertDescription.IllegalParameter);
            return;
        }
        if (_options.RequireExtendedMasterSecret && !_extendedMasterSecret)
        {
            Fail(DtlsFailureReason.HandshakeFailure, AlertDescription.HandshakeFailure);
            return;
        }
        SetCipherSuite(suite);
        SrtpProfile = profile;
        hello.Random.CopyTo(_serverRandom);
        _transcript.Add(HandshakeType.ServerHello, seq, body);
        _clientState = ClientState.ExpectCertificate;
    }

    private void OnServerKeyExchange(ushort seq, ReadOnlySpan<byte> body)
    {
        // RFC 8422 §5.4: curve_type(1)=named_curve namedcurve(2) point<1..2^8-1>, then the signature.
        if (body.Length < 4 || body[0] != 3 || BinaryPrimitives.ReadUInt16BigEndian(body[1..]) != NamedCurveSecp256r1)
        {
            Fail(DtlsFailureReason.HandshakeFailure, AlertDescription.IllegalParameter);
            return;
        }
        int paramsLength = 4 + body[3];
        if (body.Length < paramsLength || !TryReadSignature(body[paramsLength..], out ushort scheme, out ReadOnlySpan<byte> signature))
        {
            Fail(DtlsFailureReason.DecodeError, AlertDescription.DecodeError);
            return;
        }
        var signed = new byte[64 + paramsLength];
        _clientRandom.CopyTo(signed, 0);
        _serverRandom.CopyTo(signed, 32);
        body[..paramsLength].CopyTo(signed.AsSpan(64));
        if (!VerifyPeerSignature(scheme, signed, signature))
        {
            Fail(DtlsFailureReason.BadSignature, AlertDescription.DecryptError);
            return;
        }
        _serverPoint = body[4..paramsLength].ToArray();
        _transcript.Add(HandshakeType.ServerKeyExchange, seq, body);
        _clientState = ClientState.ExpectCertificateRequestOrDone;
    }

    /// <summary>
    /// RFC 5246 §7.4.4: certificate_types&lt;1..2^8-1&gt; supported_signature_algorithms&lt;2..2^16-2&gt;
    /// certificate_authorities&lt;0..2^16-1&gt;. Only the algorithms matter to us.
    /// </summary>
    private static bool TryReadCertificateRequest(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> schemes)
    {
        schemes = default;
        if (!ClientHelloView.TryTakeU8Vector(body, out ReadOnlySpan<byte> types, out ReadOnlySpan<byte> rest) || types.Length == 0
            || !HelloExtensions.TryReadU16List(rest, out schemes, out int consumed) || schemes.Length == 0)
            return false;
        rest = rest[consumed..];
        return rest.Length >= 2 && BinaryPrimitives.ReadUInt16BigEndian(rest) == rest.Length - 2;
    }

    private void OnServerHelloDone(ushort seq, ReadOnlySpan<byte> body, long nowMicros)
    {
        if (body.Length != 0)
        {
            Fail(DtlsFailureReason.DecodeError, AlertDescription.DecodeError);
            return;
        }
        _transcript.Add(HandshakeType.ServerHelloDone, seq, body);
        _flight.Clear();
        if (_certificateRequested) AddToFlight(HandshakeType.Certificate, BuildCertificateBody());
        byte[] point = CreateEphemeralKey();
        byte[]? preMaster = DerivePreMasterSecret(_serverPoint);
        if (preMaster == null)
        {
            Fail(DtlsFailureReason.HandshakeFailure, AlertDescription.IllegalParameter);
            return;
        }
        var keyExchange = new byte[1 + point.Length];
        keyExchange[0] = (byte)point.Length;
        point.CopyTo(keyExchange, 1);
        AddToFlight(HandshakeType.ClientKeyExchange, keyExchange);
        DeriveKeys(preMaster);
        if (_certificateRequested)
        {
            byte[] signature = Sign(_transcript.Messages);
            MessageBuilder b = _builder;
            b.Clear();
            b.U16(_signatureScheme);
            b.U16(signature.Length);
            b.Bytes(signature);
            AddToFlight(HandshakeType.CertificateVerify, b.ToArray());
        }
        AddChangeCipherSpecToFlight();
        AddFinishedToFlight(client: true);
        _clientState = ClientState.ExpectFinished;
        StartFlight(nowMicros, final: false);
    }
}

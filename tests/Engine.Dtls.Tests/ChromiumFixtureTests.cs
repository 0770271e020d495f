using System.Buffers.Binary;
using Engine.Dtls;
using Engine.Dtls.Handshake;
using Engine.Dtls.Record;

namespace Engine.Dtls.Tests;

/// <summary>The real Chromium 156 ClientHello from the capture: two datagrams, one handshake message.</summary>
public class ChromiumFixtureTests
{
    private static List<byte[]> ClientHelloDatagrams()
    {
        var all = PcapReader.ReadUdp(Fixtures.PathOf("chromium156-loopback.pcap"));
        var first = all.First(d => d.Payload.Length > 25 && d.Payload[0] == 22 && d.Payload[13] == 1);
        return all.Where(d => d.Source.Equals(first.Source) && d.Destination.Equals(first.Destination)
                && d.Payload.Length > 25 && d.Payload[0] == 22 && d.Payload[13] == 1)
            .Take(2).Select(d => d.Payload).ToList();
    }

    [Fact]
    public void Fragmented_client_hello_is_reassembled_and_parsed()
    {
        List<byte[]> datagrams = ClientHelloDatagrams();
        Assert.Equal(2, datagrams.Count);
        var reassembler = new HandshakeReassembler();
        int fragments = 0;
        foreach (byte[] datagram in datagrams)
        {
            Assert.True(DtlsRecordView.TryRead(datagram, out DtlsRecordView record));
            Assert.Equal(ContentType.Handshake, record.ContentType);
            Assert.Equal(0, record.Epoch);
            Assert.True(HandshakeFragmentView.TryRead(record.Fragment, out HandshakeFragmentView fragment));
            Assert.Equal(HandshakeType.ClientHello, fragment.Type);
            Assert.False(fragment.IsComplete);
            Assert.Equal(ReassemblyResult.Buffered, reassembler.Add(fragment, record.Epoch));
            fragments++;
        }
        Assert.Equal(2, fragments);
        Assert.True(reassembler.TryTake(out HandshakeType type, out ushort seq, out _, out ReadOnlySpan<byte> body));
        Assert.Equal(HandshakeType.ClientHello, type);
        Assert.Equal(0, seq);
        Assert.True(body.Length > 1300, $"ClientHello is {body.Length} bytes");

        Assert.True(ClientHelloView.TryRead(body, out ClientHelloView hello));
        Assert.Equal(0xFEFD, hello.ClientVersion);
        Assert.True(hello.Cookie.IsEmpty);
        Assert.True(hello.OffersCipherSuite((ushort)CipherSuite.EcdheEcdsaAes128GcmSha256));
        Assert.True(hello.OffersExtendedMasterSecret);
        Assert.True(hello.TryGetSrtpProfiles(out ReadOnlySpan<byte> profiles));
        ushort[] offered = ToU16(profiles);
        Assert.Contains(SrtpProtectionProfile.AeadAes128Gcm, offered);
        Assert.Contains(SrtpProtectionProfile.AeadAes256Gcm, offered);
        Assert.Contains(SrtpProtectionProfile.Aes128CmHmacSha1_80, offered);
        Assert.True(hello.TryGetSupportedGroups(out ReadOnlySpan<byte> groups));
        ushort[] groupIds = ToU16(groups);
        Assert.Contains((ushort)0x001D, groupIds); // x25519
        Assert.Contains((ushort)0x0017, groupIds); // secp256r1
        Assert.Contains((ushort)0x0018, groupIds); // secp384r1
        // DTLS 1.3 and 1.2 offered via supported_versions: u8 length, then versions.
        Assert.True(hello.TryGetExtension(ExtensionType.SupportedVersions, out ReadOnlySpan<byte> versions));
        ushort[] versionIds = ToU16(versions[1..]);
        Assert.Contains((ushort)0xFEFC, versionIds);
        Assert.Contains((ushort)0xFEFD, versionIds);
    }

    [Fact]
    public void Server_answers_the_reassembled_client_hello_with_a_hello_verify_request()
    {
        List<byte[]> datagrams = ClientHelloDatagrams();
        using var certificate = DtlsCertificate.Generate();
        using var server = new DtlsEndpoint(DtlsRole.Server, certificate, new DtlsOptions());
        server.Start(0);
        var buffer = new byte[2048];

        server.HandleDatagram(datagrams[0], 0);
        Assert.False(server.TryPollTransmit(buffer, out _)); // half a ClientHello: nothing to say yet
        server.HandleDatagram(datagrams[1], 1000);
        Assert.True(server.TryPollTransmit(buffer, out int length));
        Assert.False(server.TryPollTransmit(buffer, out _));

        Assert.True(DtlsRecordView.TryRead(buffer.AsSpan(0, length), out DtlsRecordView record));
        Assert.Equal(length, record.TotalLength);
        Assert.True(HandshakeFragmentView.TryRead(record.Fragment, out HandshakeFragmentView hvr));
        Assert.Equal(HandshakeType.HelloVerifyRequest, hvr.Type);
        Assert.True(hvr.IsComplete);
        Assert.Equal(0, hvr.MessageSeq);
        Assert.Equal(32, hvr.Body[2]);
        // RFC 6347 §4.2.1: the HelloVerifyRequest reuses the ClientHello's record sequence number.
        Assert.True(DtlsRecordView.TryRead(datagrams[1], out DtlsRecordView lastHello));
        Assert.Equal(lastHello.SequenceNumber, record.SequenceNumber);
        Assert.Equal(1, server.Counters.HelloVerifyRequestsSent);
        Assert.Equal(DtlsState.Handshaking, server.State);
        Assert.Equal(long.MaxValue, server.NextTimeoutMicros); // stateless: no timer, no flight
    }

    [Fact]
    public void Fragments_in_reverse_order_give_the_same_answer()
    {
        List<byte[]> datagrams = ClientHelloDatagrams();
        using var certificate = DtlsCertificate.Generate();
        using var server = new DtlsEndpoint(DtlsRole.Server, certificate, new DtlsOptions());
        server.HandleDatagram(datagrams[1], 0);
        server.HandleDatagram(datagrams[1], 0); // duplicate fragment: the reassembler ignores the repeated bytes
        server.HandleDatagram(datagrams[0], 0);
        Assert.True(server.TryPollTransmit(new byte[2048], out _));
        Assert.False(server.TryPollTransmit(new byte[2048], out _));
        Assert.Equal(1, server.Counters.HelloVerifyRequestsSent);
    }

    private static ushort[] ToU16(ReadOnlySpan<byte> list)
    {
        var result = new ushort[list.Length / 2];
        for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadUInt16BigEndian(list[(2 * i)..]);
        return result;
    }
}

using System.Buffers.Binary;
using System.Net;
using System.Runtime.ExceptionServices;
using Engine.Host.Peers;
using Engine.Host.Tests.Transport;
using Engine.Ice;

namespace Engine.Host.Tests.Peers;

/// <summary>
/// Issue 14 §4 at the session level, on a connected pair: a STUN flood with our ufrag and a wrong
/// password, and DTLS records with bad AES-GCM tags, are counted drops: no answer, no state, no
/// allocation, no exception, and the media path keeps working.
/// </summary>
public class PeerWireFaultTests
{
    private static readonly NetAddress Stranger = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.9"), 40000));

    [Fact]
    public void AWrongPasswordFloodIsCountedAndHoldsThePeerFlat()
    {
        using var pair = new PeerPair(81);
        pair.Connect();
        var server = pair.Server;
        var checks = MediaLoopFaultTests.WrongPasswordChecks("srvU", 256, remoteUfrag: "cliU");
        var buffer = new byte[1500];
        long now = pair.Now, consent = server.IceLite!.ConsentDeadlineMicros;
        long badBefore = server.IceLite.Counters[IceCheckResult.BadIntegrity];
        int transmits = 0;
        void Flood(int count)
        {
            for (int i = 0; i < count; i++)
            {
                // From the selected path and from a stranger: neither may answer, switch or refresh anything.
                server.HandleDatagram(checks[i % checks.Length], (i & 1) == 0 ? PeerPair.ClientAddress : Stranger, ++now);
                while (server.TryPollTransmit(buffer, out _, out _))
                    transmits++;
            }
        }
        Flood(2_000);
        long allocated = long.MaxValue;
        for (int window = 0; window < 4; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Flood(50_000);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        long bad = server.IceLite.Counters[IceCheckResult.BadIntegrity] - badBefore;
        Console.WriteLine($"peer flood: {bad} bad-integrity checks counted, {transmits} answers, {allocated} bytes (fewest of 4 windows of 50000)");
        Assert.Equal(202_000, bad);
        Assert.Equal(0, transmits);
        Assert.Equal(0, allocated);
        Assert.Equal(PeerPair.ClientAddress, server.Route);
        Assert.Equal(consent, server.IceLite.ConsentDeadlineMicros); // a check that fails integrity is no consent (RFC 7675 §5.1)
        Assert.Equal(PeerState.Connected, server.State);
    }

    /// <summary>A DTLS 1.2 record (RFC 6347 §4.1) of epoch 1 whose fragment is an explicit nonce, ciphertext and a tag that cannot authenticate.</summary>
    private static byte[] ForgedRecord(byte contentType, ulong sequence, Random random)
    {
        var r = new byte[13 + 8 + 40 + 16];
        r[0] = contentType;
        r[1] = 0xfe;
        r[2] = 0xfd;
        BinaryPrimitives.WriteUInt64BigEndian(r.AsSpan(3), 1UL << 48 | sequence);
        BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(11), (ushort)(r.Length - 13));
        random.NextBytes(r.AsSpan(13));
        return r;
    }

    [Fact]
    public void BadDtlsTagsAfterTheHandshakeAreCountedDrops()
    {
        using var pair = new PeerPair(82);
        pair.Connect();
        var server = pair.Server;
        var random = new Random(82);
        // Application data (decrypted into the receive queue) and handshake/alert records (decrypted
        // into the plaintext buffer) take two paths to the cipher; both must count.
        var records = Enumerable.Range(0, 1000).Select(i => ForgedRecord(i % 3 == 0 ? (byte)23 : i % 3 == 1 ? (byte)22 : (byte)21, 1000 + (ulong)i, random)).ToArray();
        long badMacBefore = server.Dtls.Counters.RecordsDroppedBadMac;
        int exceptions = 0, thread = Environment.CurrentManagedThreadId;
        EventHandler<FirstChanceExceptionEventArgs> onThrow = (_, _) =>
        {
            if (Environment.CurrentManagedThreadId == thread) Interlocked.Increment(ref exceptions);
        };
        var buffer = new byte[1500];
        int transmits = 0;
        AppDomain.CurrentDomain.FirstChanceException += onThrow;
        try
        {
            foreach (var r in records)
            {
                server.HandleDatagram(r.AsSpan().ToArray(), PeerPair.ClientAddress, pair.Now);
                while (server.TryPollTransmit(buffer, out _, out _))
                    transmits++;
            }
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= onThrow;
        }
        long badMac = server.Dtls.Counters.RecordsDroppedBadMac - badMacBefore;
        Console.WriteLine($"forged DTLS records: {badMac} bad-tag drops of {records.Length}, {exceptions} exceptions, {transmits} answers");
        Assert.Equal(records.Length, badMac);
        Assert.Equal(0, exceptions); // libcrypto's EVP reports a bad tag as a return value (AesGcm would throw, caught)
        Assert.Equal(0, transmits); // RFC 6347 §4.1.2.7: dropped silently, no alert
        Assert.Equal(PeerState.Connected, server.State);
        Assert.Equal(Engine.Dtls.DtlsState.Connected, server.Dtls.State);

        // The session still carries media: a packet written now reaches the client and decrypts.
        long received = pair.Client.Counters.RtpReceived;
        var packet = new byte[12 + 100];
        packet[0] = 0x80;
        packet[1] = 96;
        packet[12] = 0x65; // IDR slice, single NAL unit (RFC 6184 §5.6)
        Assert.True(server.WriteRtp(0, packet, pair.Now));
        pair.Flush();
        pair.Run(pair.Now + 100_000);
        Assert.Equal(received + 1, pair.Client.Counters.RtpReceived);
        Assert.Equal(0, pair.Client.Counters.SrtpFailures);
    }
}

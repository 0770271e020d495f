using Engine.Ice.Turn;

namespace Engine.Ice.Tests.Turn;

public class TurnRobustnessTests
{
    private static readonly NetAddress Peer = T.A("203.0.113.50:40000");
    private static readonly NetAddress Peer6 = T.A("[2001:db8::50]:40000");

    [Fact]
    public void RandomAndMutatedInput_NeverThrows_AndIsCounted()
    {
        var clock = new TestClock();
        var ports = new FakeRelayPortAllocator();
        var o = T.Options();
        o.SharedSecret = "s3cret";
        o.MaxBytesPerSecondPerAllocation = 1_000_000;
        var server = new TurnServer(o, ports);
        var client = new TurnTestClient(server, clock, T.Tuple("203.0.113.7:50000"));
        var relay = client.AllocateOk((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.AdditionalAddressFamily, new byte[] { 2, 0, 0, 0 }));
        Assert.Equal(0, T.ErrorCode(client.ChannelBind(0x4000, Peer)));
        Assert.Equal(0, T.ErrorCode(client.CreatePermission(Peer6)));

        // Valid messages of every kind, signed with the live nonce, as mutation seeds.
        var seeds = new List<byte[]>
        {
            client.Build(StunMethod.Allocate, StunClass.Request, (ref StunMessageWriter w) => { w.AddRequestedTransport(17); w.AddLifetime(600); }, authenticate: true),
            client.Build(StunMethod.Refresh, StunClass.Request, (ref StunMessageWriter w) => w.AddLifetime(900), authenticate: true),
            client.Build(StunMethod.CreatePermission, StunClass.Request, (ref StunMessageWriter w) => { w.AddXorPeerAddress(Peer); w.AddXorPeerAddress(Peer6); }, authenticate: true),
            client.Build(StunMethod.ChannelBind, StunClass.Request, (ref StunMessageWriter w) => { w.AddChannelNumber(0x4000); w.AddXorPeerAddress(Peer); }, authenticate: true),
            client.Build(StunMethod.Binding, StunClass.Request, null, authenticate: false),
            client.SendIndication(Peer, new byte[40]),
            client.SendIndication(Peer6, new byte[40]),
            TurnTestClient.ChannelData(0x4000, new byte[37]),
            TurnTestClient.ChannelData(0x4000, new byte[37], pad: true),
        };
        var rng = new Random(20261202);
        var output = new byte[1500];
        var tiny = new byte[24]; // answers that do not fit are drops, not exceptions
        var tuples = new[] { client.Tuple, T.Tuple("203.0.113.8:1"), T.Tuple("203.0.113.7:50000", TurnTransport.Tcp) };
        int handled = 0;
        for (int i = 0; i < 30_000; i++)
        {
            byte[] input = rng.Next(10) == 0 ? RandomBytes(rng) : Mutate(seeds[rng.Next(seeds.Count)], rng);
            var tuple = tuples[rng.Next(tuples.Length)];
            var buffer = rng.Next(20) == 0 ? tiny : output;
            var action = server.HandleClientMessage(input, tuple, clock.Now, buffer, out int length, out _, out _);
            Assert.InRange(length, 0, buffer.Length);
            if (action != TurnAction.None)
                handled++;
            var from = rng.Next(3) == 0 ? Peer6 : Peer;
            server.HandlePeerDatagram(rng.Next(2) == 0 ? relay : T.A("198.51.100.1:1"), from, input, clock.Now, buffer, out length, out _);
            Assert.InRange(length, 0, buffer.Length);
            if (rng.Next(100) == 0)
            {
                clock.Advance(rng.Next(30));
                server.HandleTimeout(clock.Now);
            }
        }
        Assert.True(handled > 1000);
        Assert.True(server.Counters[TurnDropReason.Malformed] > 1000);
        Assert.True(server.Counters.TotalDrops > 10_000);

        // The books balance: once everything expires, no relay port, allocation, permission or channel is left.
        clock.Advance(4000);
        server.HandleTimeout(clock.Now);
        Assert.Equal(0, server.AllocationCount);
        Assert.Empty(ports.Active);
        Assert.Equal(0, server.Counters.Allocations);
        Assert.Equal(0, server.Counters.Permissions);
        Assert.Equal(0, server.Counters.Channels);

        // And the server still works.
        var fresh = new TurnTestClient(server, clock, T.Tuple("203.0.113.70:1"));
        fresh.AllocateOk();
        Assert.Equal(0, T.ErrorCode(fresh.CreatePermission(Peer)));
        Assert.Equal(TurnAction.ToPeer, fresh.Send(fresh.SendIndication(Peer, new byte[3])).Action);
    }

    private static byte[] RandomBytes(Random rng)
    {
        var b = new byte[rng.Next(0, 200)];
        rng.NextBytes(b);
        if (b.Length >= 8 && rng.Next(2) == 0)
        {
            // Often a plausible STUN header, so the attribute walk is reached.
            b[0] &= 0x01;
            int body = (b.Length - 20) & ~3;
            if (body >= 0)
            {
                Array.Resize(ref b, 20 + body);
                b[2] = (byte)(body >> 8);
                b[3] = (byte)body;
            }
            if (b.Length >= 8)
            {
                b[4] = 0x21; b[5] = 0x12; b[6] = 0xA4; b[7] = 0x42;
            }
        }
        return b;
    }

    private static byte[] Mutate(byte[] seed, Random rng)
    {
        var b = (byte[])seed.Clone();
        switch (rng.Next(5))
        {
            case 0:
                for (int k = rng.Next(1, 4); k > 0; k--)
                    b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 1:
                return b[..rng.Next(b.Length + 1)];
            case 2:
                // An attribute length or the header length rewritten.
                int at = rng.Next(b.Length / 2) * 2;
                if (at + 1 < b.Length)
                {
                    b[at] = (byte)rng.Next(256);
                    b[at + 1] = (byte)rng.Next(256);
                }
                return b;
            case 3:
                var longer = new byte[b.Length + rng.Next(1, 16)];
                b.CopyTo(longer, 0);
                rng.NextBytes(longer.AsSpan(b.Length));
                return longer;
            default:
                return b; // replays too
        }
    }

    [Fact]
    public void RelayedChannelDataAndIndications_AllocateNothing()
    {
        var clock = new TestClock();
        var o = T.Options();
        o.MaxBytesPerSecondPerAllocation = 1_000_000_000;
        var server = new TurnServer(o, new FakeRelayPortAllocator());
        var udp = new TurnTestClient(server, clock, T.Tuple("203.0.113.7:50000"));
        var tcp = new TurnTestClient(server, clock, T.Tuple("203.0.113.7:50001", TurnTransport.Tcp));
        var relayUdp = udp.AllocateOk();
        var relayTcp = tcp.AllocateOk();
        Assert.Equal(0, T.ErrorCode(udp.ChannelBind(0x4000, Peer)));
        Assert.Equal(0, T.ErrorCode(tcp.ChannelBind(0x4123, Peer)));
        var other = T.A("203.0.113.51:1000");
        Assert.Equal(0, T.ErrorCode(udp.CreatePermission(other)));

        var channelData = TurnTestClient.ChannelData(0x4000, new byte[1100]);
        var channelDataTcp = TurnTestClient.ChannelData(0x4123, new byte[1101], pad: true);
        var send = udp.SendIndication(other, new byte[1000]);
        var media = new byte[1100];
        var output = new byte[1500];
        var udpTuple = udp.Tuple;
        var tcpTuple = tcp.Tuple;

        long ok = 0;
        long Run(int n)
        {
            long bytes = 0;
            for (int i = 0; i < n; i++)
            {
                clock.Now += 20;
                ok += server.HandleClientMessage(channelData, udpTuple, clock.Now, output, out int a, out _, out _) == TurnAction.ToPeer ? 1 : 0;
                ok += server.HandleClientMessage(channelDataTcp, tcpTuple, clock.Now, output, out int b, out _, out _) == TurnAction.ToPeer ? 1 : 0;
                ok += server.HandlePeerDatagram(relayUdp, Peer, media, clock.Now, output, out int c, out _) == TurnAction.ToClient ? 1 : 0;
                ok += server.HandlePeerDatagram(relayTcp, Peer, media, clock.Now, output, out int d, out _) == TurnAction.ToClient ? 1 : 0;
                ok += server.HandleClientMessage(send, udpTuple, clock.Now, output, out int e, out _, out _) == TurnAction.ToPeer ? 1 : 0;
                ok += server.HandlePeerDatagram(relayUdp, other, media, clock.Now, output, out int f, out _) == TurnAction.ToClient ? 1 : 0;
                bytes += a + b + c + d + e + f;
            }
            return bytes;
        }

        Run(10); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        long relayed = Run(5000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(6 * 5010, ok); // every packet went where it should (asserts stay out of the measured loop)
        Assert.Equal(5000L * (1100 + 1101 + 1104 + 1104 + 1000 + 20 + 12 + 4 + 1100), relayed);
        Assert.Equal(0, server.Counters.TotalDrops);
    }
}

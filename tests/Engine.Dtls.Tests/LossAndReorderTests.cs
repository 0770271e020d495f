using Engine.Dtls;

namespace Engine.Dtls.Tests;

/// <summary>Our client and server through a network that drops, duplicates and reorders, at fixed seeds, on a fake clock.</summary>
public class LossAndReorderTests
{
    public static IEnumerable<object[]> Seeds()
    {
        for (int seed = 1; seed <= 20; seed++) yield return [seed];
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Handshake_completes_with_loss_duplication_and_reordering(int seed)
    {
        int mtu = seed % 2 == 0 ? 300 : 1200;
        var options = new DtlsOptions { Mtu = mtu, MaxRetransmissions = 12 };
        using var pair = new DtlsPair(options, options, seed, loss: 0.25, duplicate: 0.2, reorder: true);
        int largest = 0;
        pair.Sent = (_, d) => largest = Math.Max(largest, d.Length);

        Assert.True(pair.Handshake(), $"seed {seed}: client {pair.Client.State}/{pair.Client.FailureReason}, server {pair.Server.State}/{pair.Server.FailureReason}");

        Assert.True(largest <= mtu, $"datagram of {largest} bytes exceeds MTU {mtu}");
        var c = new byte[56];
        var s = new byte[56];
        Assert.True(pair.Client.TryExportSrtpKeyingMaterial(c, out _));
        Assert.True(pair.Server.TryExportSrtpKeyingMaterial(s, out _));
        Assert.Equal(c, s);
    }

    [Fact]
    public void Small_mtu_fragments_our_flights()
    {
        var options = new DtlsOptions { Mtu = 300 };
        using var pair = new DtlsPair(options, options);
        var sizes = new List<int>();
        pair.Sent = (_, d) => sizes.Add(d.Length);
        Assert.True(pair.Handshake());
        Assert.All(sizes, s => Assert.True(s <= 300));
        // Certificate (~400 bytes DER) cannot fit one 300-byte datagram: it must have been split.
        Assert.True(sizes.Count(s => s > 250) >= 2);
    }

    [Fact]
    public void Lost_final_flight_is_resent_when_the_client_retransmits()
    {
        using var pair = new DtlsPair();
        bool dropServerFinished = true;
        pair.Client.Start(0);
        pair.Server.Start(0);
        // Drop only the server's first CCS+Finished datagram (it is encrypted: epoch 1 records).
        var buffer = new byte[4096];
        for (int step = 0; step < 100 && !(pair.Client.State == DtlsState.Connected); step++)
        {
            while (pair.Client.TryPollTransmit(buffer, out int n)) pair.Server.HandleDatagram(buffer.AsSpan(0, n), pair.NowMicros);
            while (pair.Server.TryPollTransmit(buffer, out int n))
            {
                if (pair.Server.State == DtlsState.Connected && dropServerFinished)
                {
                    dropServerFinished = false;
                    continue;
                }
                pair.Client.HandleDatagram(buffer.AsSpan(0, n), pair.NowMicros);
            }
            if (!pair.Client.TryPollTransmit(buffer, out _) && pair.Client.State != DtlsState.Connected)
            {
                // Nothing in flight: fire the client's retransmission timer.
                pair.Client.HandleTimeout(pair.Client.NextTimeoutMicros);
            }
        }
        Assert.False(dropServerFinished);
        Assert.Equal(DtlsState.Connected, pair.Client.State);
        Assert.True(pair.Client.Counters.Retransmissions >= 1);
        Assert.True(pair.Server.Counters.Retransmissions >= 1);
    }

    [Fact]
    public void Retransmission_timer_backs_off_exponentially_then_gives_up()
    {
        using var certificate = DtlsCertificate.Generate();
        using var client = new DtlsEndpoint(DtlsRole.Client, certificate, new DtlsOptions { MaxRetransmissions = 4, MaxRetransmitMicros = 3_000_000 });
        client.Start(0);
        var intervals = new List<long>();
        long last = 0;
        for (int i = 0; i < 10 && client.State == DtlsState.Handshaking; i++)
        {
            long at = client.NextTimeoutMicros;
            intervals.Add(at - last);
            last = at;
            client.HandleTimeout(at - 1); // early: nothing happens
            Assert.Equal(at, client.NextTimeoutMicros);
            client.HandleTimeout(at);
        }
        Assert.Equal([1_000_000L, 2_000_000L, 3_000_000L, 3_000_000L, 3_000_000L], intervals);
        Assert.Equal(DtlsState.Failed, client.State);
        Assert.Equal(DtlsFailureReason.Timeout, client.FailureReason);
        Assert.Equal(4, client.Counters.Retransmissions);
        Assert.Equal(long.MaxValue, client.NextTimeoutMicros);
    }

    [Fact]
    public void The_lossy_network_really_drops_and_duplicates()
    {
        long retransmissions = 0, duplicates = 0;
        for (int seed = 1; seed <= 20; seed++)
        {
            var options = new DtlsOptions { Mtu = 300, MaxRetransmissions = 12 };
            using var pair = new DtlsPair(options, options, seed, loss: 0.25, duplicate: 0.2, reorder: true);
            Assert.True(pair.Handshake());
            retransmissions += pair.Client.Counters.Retransmissions + pair.Server.Counters.Retransmissions;
            duplicates += pair.Client.Counters.HandshakeDuplicates + pair.Server.Counters.HandshakeDuplicates
                + pair.Client.Counters.RecordsDroppedReplay + pair.Server.Counters.RecordsDroppedReplay;
        }
        Assert.True(retransmissions >= 20, $"{retransmissions} retransmissions");
        Assert.True(duplicates >= 20, $"{duplicates} duplicates");
    }
}

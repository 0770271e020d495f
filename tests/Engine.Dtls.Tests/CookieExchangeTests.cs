using Engine.Dtls;
using Engine.Dtls.Handshake;
using Engine.Dtls.Record;

namespace Engine.Dtls.Tests;

/// <summary>RFC 6347 §4.2.1: the cookie exchange costs the server no state and sends less than it receives.</summary>
public class CookieExchangeTests
{
    [Fact]
    public void Spoofed_client_hellos_get_small_answers_and_leave_no_timer()
    {
        using var cert = DtlsCertificate.Generate();
        using var server = new DtlsEndpoint(DtlsRole.Server, cert, new DtlsOptions());
        var buffer = new byte[2048];
        for (int i = 0; i < 50; i++)
        {
            using var spoofer = new DtlsEndpoint(DtlsRole.Client, cert, new DtlsOptions());
            spoofer.Start(0);
            Assert.True(spoofer.TryPollTransmit(buffer, out int helloLength));
            server.HandleDatagram(buffer.AsSpan(0, helloLength), i);
            Assert.True(server.TryPollTransmit(buffer, out int answerLength));
            Assert.True(answerLength < helloLength, $"answer {answerLength} B for a {helloLength} B ClientHello");
            Assert.Equal(long.MaxValue, server.NextTimeoutMicros);
        }
        Assert.Equal(50, server.Counters.HelloVerifyRequestsSent);
        Assert.Equal(DtlsState.Handshaking, server.State);
    }

    [Fact]
    public void A_cookie_issued_by_one_endpoint_is_accepted_by_another_with_the_same_secret()
    {
        byte[] secret = new byte[32];
        new Random(7).NextBytes(secret);
        using var pair = new DtlsPair(null, new DtlsOptions { CookieSecret = secret });
        using var other = new DtlsEndpoint(DtlsRole.Server, pair.ServerCertificate,
            new DtlsOptions { CookieSecret = secret, RemoteFingerprint = pair.ClientCertificate.Fingerprint });
        var buffer = new byte[2048];
        pair.Client.Start(0);
        Assert.True(pair.Client.TryPollTransmit(buffer, out int n));
        other.HandleDatagram(buffer.AsSpan(0, n), 0);              // the first server answers with a cookie ...
        Assert.True(other.TryPollTransmit(buffer, out n));
        pair.Client.HandleDatagram(buffer.AsSpan(0, n), 0);
        Assert.True(pair.Client.TryPollTransmit(buffer, out n));   // ... and the retried ClientHello carries it
        pair.Server.HandleDatagram(buffer.AsSpan(0, n), 0);        // to a server that never saw the first one
        Assert.Equal(0, pair.Server.Counters.HelloVerifyRequestsSent);
        Assert.True(pair.Server.TryPollTransmit(buffer, out n));
        Assert.True(DtlsRecordView.TryRead(buffer.AsSpan(0, n), out DtlsRecordView record));
        Assert.True(HandshakeFragmentView.TryRead(record.Fragment, out HandshakeFragmentView first));
        Assert.Equal(HandshakeType.ServerHello, first.Type);
        Assert.Equal(1, first.MessageSeq); // RFC 6347 §4.2.2: continues at the cookie ClientHello's message_seq
        pair.Client.HandleDatagram(buffer.AsSpan(0, n), 0);
        Assert.True(pair.Pump(() => pair.Client.State == DtlsState.Connected && pair.Server.State == DtlsState.Connected));
    }

    [Fact]
    public void A_cookie_from_a_different_secret_is_answered_with_a_new_cookie()
    {
        using var pair = new DtlsPair(null, new DtlsOptions { CookieSecret = new byte[32] });
        using var other = new DtlsEndpoint(DtlsRole.Server, pair.ServerCertificate, new DtlsOptions { CookieSecret = Enumerable.Repeat((byte)1, 32).ToArray() });
        var buffer = new byte[2048];
        pair.Client.Start(0);
        Assert.True(pair.Client.TryPollTransmit(buffer, out int n));
        other.HandleDatagram(buffer.AsSpan(0, n), 0);
        Assert.True(other.TryPollTransmit(buffer, out n));
        pair.Client.HandleDatagram(buffer.AsSpan(0, n), 0);
        Assert.True(pair.Client.TryPollTransmit(buffer, out n));
        pair.Server.HandleDatagram(buffer.AsSpan(0, n), 0);
        Assert.Equal(1, pair.Server.Counters.HelloVerifyRequestsSent);
        Assert.True(pair.Pump(() => pair.Client.State == DtlsState.Connected && pair.Server.State == DtlsState.Connected));
    }
}

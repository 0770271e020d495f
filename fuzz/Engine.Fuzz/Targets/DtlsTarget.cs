using Engine.Dtls;

namespace Engine.Fuzz.Targets;

/// <summary>
/// A DTLS server endpoint in a fixed state (fresh, waiting for a ClientHello) fed the datagram:
/// record layer, handshake fragment reassembly, ClientHello parsing, cookie exchange.
/// A fresh endpoint per input keeps runs repeatable; the certificate is made once.
/// </summary>
public class DtlsTarget : FuzzTarget
{
    private static DtlsCertificate? s_certificate;
    private readonly byte[] _out = new byte[4096];

    public override string Name => "dtls";
    public override string Description => "DTLS server (cookie required, as exposed to the internet): DtlsEndpoint.HandleDatagram, then a timeout";
    public override int MaxLength => 4096;
    public override string[] DictionaryAssemblies => ["Engine.Dtls"];
    public override string[] Tokens => ["\"\\x16\\xfe\\xfd\"", "\"\\x16\\xfe\\xff\"", "\"\\x14\\xfe\\xfd\"", "\"\\x15\\xfe\\xfd\"", "\"\\x17\\xfe\\xfd\"", "\"\\xc0\\x2b\"", "\"\\x00\\x0e\"", "\"\\x00\\x17\"", "\"\\x00\\x0a\"", "\"\\x00\\x2b\""];

    protected virtual bool RequireCookie => true;

    protected DtlsOptions Options { get; private set; } = new();

    public override void Setup()
    {
        s_certificate ??= DtlsCertificate.Generate("CN=fuzz");
        Options = new DtlsOptions { RequireCookie = RequireCookie, CookieSecret = new byte[32] };
    }

    public override bool Run(Span<byte> input)
    {
        using var server = new DtlsEndpoint(DtlsRole.Server, s_certificate!, Options);
        server.Start(0);
        server.HandleDatagram(input, 1_000);
        int sent = Drain(server);
        server.HandleTimeout(5_000_000);
        sent += Drain(server);
        if (server.State == DtlsState.Failed && server.FailureReason == default)
            throw new InvalidOperationException("DTLS endpoint failed without a reason");
        return server.State is DtlsState.Handshaking or DtlsState.Connected && sent > 0;
    }

    private int Drain(DtlsEndpoint endpoint)
    {
        int count = 0;
        // Bounded: a flight is a handful of datagrams.
        for (int i = 0; i < 64; i++)
        {
            if (!endpoint.TryPollTransmit(_out, out int length))
            {
                if (length > _out.Length)
                    throw new InvalidOperationException($"DTLS datagram of {length} bytes is over the MTU");
                break;
            }
            count++;
        }
        return count;
    }
}

/// <summary>The same server without the cookie round trip, so the ClientHello is processed and the server flight is built.</summary>
public sealed class DtlsNoCookieTarget : DtlsTarget
{
    public override string Name => "dtls-nocookie";
    public override string Description => "DTLS server without cookie exchange: ClientHello reassembly and processing, ServerHello flight";
    protected override bool RequireCookie => false;
}

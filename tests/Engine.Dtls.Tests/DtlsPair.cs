using Engine.Dtls;

namespace Engine.Dtls.Tests;

/// <summary>
/// Two of our endpoints wired through an in-memory network with a fake clock. The network can
/// drop, duplicate and reorder datagrams from a seeded Random; time jumps to the next timeout
/// whenever nothing is in flight, so no test sleeps.
/// </summary>
internal sealed class DtlsPair : IDisposable
{
    private readonly List<(bool ToServer, byte[] Data)> _inFlight = new();
    private readonly Random? _random;
    private readonly double _loss;
    private readonly double _duplicate;
    private readonly bool _reorder;

    /// <summary>Certificates default to fresh P-256 ones; given ones are disposed with the pair.</summary>
    public DtlsPair(DtlsOptions? clientOptions = null, DtlsOptions? serverOptions = null, int seed = 0, double loss = 0, double duplicate = 0, bool reorder = false,
        DtlsCertificate? clientCertificate = null, DtlsCertificate? serverCertificate = null)
    {
        ClientCertificate = clientCertificate ?? DtlsCertificate.Generate();
        ServerCertificate = serverCertificate ?? DtlsCertificate.Generate();
        Client = new DtlsEndpoint(DtlsRole.Client, ClientCertificate, With(clientOptions, ServerCertificate.Fingerprint));
        Server = new DtlsEndpoint(DtlsRole.Server, ServerCertificate, With(serverOptions, ClientCertificate.Fingerprint));
        if (loss > 0 || duplicate > 0 || reorder) _random = new Random(seed);
        _loss = loss;
        _duplicate = duplicate;
        _reorder = reorder;
    }

    public DtlsCertificate ClientCertificate { get; }
    public DtlsCertificate ServerCertificate { get; }
    public DtlsEndpoint Client { get; }
    public DtlsEndpoint Server { get; }
    public long NowMicros { get; private set; }
    public int DatagramsDelivered { get; private set; }

    /// <summary>Each endpoint keeps the given options but learns the other's fingerprint, unless one was set.</summary>
    public static DtlsOptions With(DtlsOptions? o, DtlsFingerprint peer)
    {
        o ??= new DtlsOptions();
        return new DtlsOptions
        {
            Mtu = o.Mtu,
            SrtpProfiles = o.SrtpProfiles,
            CipherSuites = o.CipherSuites,
            RemoteFingerprint = o.RemoteFingerprint ?? peer,
            InitialRetransmitMicros = o.InitialRetransmitMicros,
            MaxRetransmitMicros = o.MaxRetransmitMicros,
            MaxRetransmissions = o.MaxRetransmissions,
            RequireCookie = o.RequireCookie,
            CookieSecret = o.CookieSecret,
            RequireExtendedMasterSecret = o.RequireExtendedMasterSecret,
        };
    }

    /// <summary>Runs until both are connected, one fails, or the step budget is spent.</summary>
    public bool Handshake(int maxSteps = 20_000)
    {
        Client.Start(NowMicros);
        Server.Start(NowMicros);
        return Pump(() => Client.State == DtlsState.Connected && Server.State == DtlsState.Connected, maxSteps);
    }

    public bool Pump(Func<bool> done, int maxSteps = 20_000)
    {
        var buffer = new byte[4096];
        for (int step = 0; step < maxSteps; step++)
        {
            Drain(Client, toServer: true, buffer);
            Drain(Server, toServer: false, buffer);
            if (done()) return true;
            if (Client.State is DtlsState.Failed or DtlsState.Closed || Server.State is DtlsState.Failed or DtlsState.Closed)
            {
                // Let the alert reach the other side before reporting; it may queue behind the rest of a
                // multi-datagram flight (RSA certificates make flights of two or three datagrams).
                for (int guard = 0; guard < 64 && _inFlight.Count > 0; guard++) Deliver();
                return done();
            }
            if (_inFlight.Count == 0)
            {
                long next = Math.Min(Client.NextTimeoutMicros, Server.NextTimeoutMicros);
                if (next == long.MaxValue) return done();
                NowMicros = Math.Max(NowMicros, next);
                Client.HandleTimeout(NowMicros);
                Server.HandleTimeout(NowMicros);
                continue;
            }
            Deliver();
        }
        return done();
    }

    private void Deliver()
    {
        if (_inFlight.Count == 0) return;
        int index = _reorder && _random != null ? _random.Next(_inFlight.Count) : 0;
        var (toServer, data) = _inFlight[index];
        _inFlight.RemoveAt(index);
        DatagramsDelivered++;
        (toServer ? Server : Client).HandleDatagram(data, NowMicros);
    }

    private void Drain(DtlsEndpoint from, bool toServer, byte[] buffer)
    {
        for (int guard = 0; guard < 1000 && from.TryPollTransmit(buffer, out int length); guard++)
        {
            Sent?.Invoke(toServer, buffer.AsSpan(0, length).ToArray());
            if (_random != null && _random.NextDouble() < _loss) continue;
            byte[] datagram = buffer.AsSpan(0, length).ToArray();
            if (Transform != null) datagram = Transform(toServer, datagram);
            _inFlight.Add((toServer, datagram));
            if (_random != null && _random.NextDouble() < _duplicate) _inFlight.Add((toServer, buffer.AsSpan(0, length).ToArray()));
        }
    }

    /// <summary>Sees every datagram an endpoint sends (before loss), e.g. to check the MTU.</summary>
    public Action<bool, byte[]>? Sent { get; set; }

    /// <summary>Replaces datagrams on the wire (a corrupting network); gets direction and bytes, returns what arrives.</summary>
    public Func<bool, byte[], byte[]>? Transform { get; set; }

    /// <summary>Injects a datagram as if the network delivered it.</summary>
    public void Inject(bool toServer, byte[] data) => _inFlight.Add((toServer, data));

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
        ClientCertificate.Dispose();
        ServerCertificate.Dispose();
    }
}

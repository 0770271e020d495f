namespace Engine.Dtls;

/// <summary>Why records were dropped and what the handshake cost; read them, never reset them.</summary>
public sealed class DtlsCounters
{
    public long DatagramsReceived { get; internal set; }
    public long RecordsReceived { get; internal set; }
    public long RecordsDroppedMalformed { get; internal set; }
    public long RecordsDroppedReplay { get; internal set; }
    /// <summary>AEAD tag mismatch; RFC 6347 §4.1.2.7 says drop silently, so we only count.</summary>
    public long RecordsDroppedBadMac { get; internal set; }
    public long RecordsDroppedEpoch { get; internal set; }
    public long RecordsDroppedUnexpected { get; internal set; }
    public long HandshakeFragmentsDropped { get; internal set; }
    public long HandshakeDuplicates { get; internal set; }
    public long HelloVerifyRequestsSent { get; internal set; }
    public long Retransmissions { get; internal set; }
    public long AlertsSent { get; internal set; }
    public long AlertsReceived { get; internal set; }
    public long ApplicationDataDropped { get; internal set; }
}

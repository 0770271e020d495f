using Engine.Dtls.Record;

namespace Engine.Dtls.Handshake;

/// <summary>One message of our current flight, kept whole so a retransmission can re-fragment and re-encrypt it (RFC 6347 §4.2.4).</summary>
internal readonly record struct FlightMessage(ContentType ContentType, ushort Epoch, HandshakeType Type, ushort MessageSeq, byte[] Body);

using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Engine.Ice.Turn;

/// <summary>
/// Relayed addresses held for a later Allocate (RFC 8656 §7.2, EVEN-PORT with R): each is keyed by
/// the 8-byte RESERVATION-TOKEN handed out (§14.9) and goes back to the allocator when it is not
/// claimed in time. Server-wide, not tied to the allocation that made it (§7.2).
/// </summary>
internal sealed class TurnReservations
{
    private readonly Dictionary<ulong, (NetAddress Relay, long ExpiresMicros)> _byToken = new();

    public int Count => _byToken.Count;

    /// <summary>Holds the address until <paramref name="expiresMicros"/>; returns its token (random, never reused while held).</summary>
    public ulong Add(in NetAddress relay, long expiresMicros)
    {
        Span<byte> bytes = stackalloc byte[8];
        ulong token;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            token = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        }
        while (_byToken.ContainsKey(token));
        _byToken[token] = (relay, expiresMicros);
        return token;
    }

    /// <summary>Whether the token names an address still held at <paramref name="nowMicros"/>.</summary>
    public bool IsValid(ReadOnlySpan<byte> token, long nowMicros) =>
        token.Length == 8 && _byToken.TryGetValue(BinaryPrimitives.ReadUInt64BigEndian(token), out var r) && r.ExpiresMicros > nowMicros;

    /// <summary>Takes a valid token's address out of the table: it is the caller's now.</summary>
    public bool TryTake(ReadOnlySpan<byte> token, long nowMicros, out NetAddress relay)
    {
        relay = default;
        if (!IsValid(token, nowMicros))
            return false;
        _byToken.Remove(BinaryPrimitives.ReadUInt64BigEndian(token), out var r);
        relay = r.Relay;
        return true;
    }

    /// <summary>Gives expired reservations back to the allocator; returns the next expiry (long.MaxValue when none).</summary>
    public long Expire(long nowMicros, IRelayPortAllocator ports)
    {
        long next = long.MaxValue;
        foreach (var (token, r) in _byToken)
        {
            if (r.ExpiresMicros <= nowMicros)
            {
                _byToken.Remove(token);
                ports.Release(r.Relay);
            }
            else
            {
                next = Math.Min(next, r.ExpiresMicros);
            }
        }
        return next;
    }
}

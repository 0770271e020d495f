namespace Engine.Dtls.Handshake;

/// <summary>
/// Reassembles fragmented, reordered and duplicated handshake messages and hands them out in
/// message_seq order (RFC 6347 §4.2.2-4.2.3). Memory is bounded: at most <see cref="MaxPending"/>
/// messages ahead, each at most <see cref="MaxMessageLength"/> bytes.
/// </summary>
public sealed class HandshakeReassembler
{
    /// <summary>Certificate chains of WebRTC peers are one small certificate; 16 KiB is generous.</summary>
    public const int MaxMessageLength = 16 * 1024;

    public const int MaxPending = 8;

    private readonly Slot[] _slots = new Slot[MaxPending];

    public HandshakeReassembler()
    {
        for (int i = 0; i < _slots.Length; i++) _slots[i] = new Slot();
    }

    public ushort NextSequence { get; private set; }

    public bool HasPending
    {
        get
        {
            foreach (Slot s in _slots)
                if (s.InUse) return true;
            return false;
        }
    }

    public void Reset(ushort nextSequence)
    {
        NextSequence = nextSequence;
        foreach (Slot s in _slots) s.InUse = false;
    }

    /// <summary>Consumes the expected message without buffering (it arrived whole, in order).</summary>
    public void Skip() => NextSequence++;

    public ReassemblyResult Add(in HandshakeFragmentView fragment, ushort epoch)
    {
        if (fragment.MessageSeq < NextSequence) return ReassemblyResult.Old;
        if (fragment.MessageSeq - NextSequence >= MaxPending) return ReassemblyResult.TooFarAhead;
        if (fragment.MessageLength > MaxMessageLength) return ReassemblyResult.TooLarge;
        Slot slot = _slots[fragment.MessageSeq % MaxPending];
        if (!slot.InUse || slot.Seq != fragment.MessageSeq)
        {
            slot.Start(fragment.MessageSeq, fragment.Type, fragment.MessageLength, epoch);
        }
        else if (slot.Type != fragment.Type || slot.Length != fragment.MessageLength || slot.Epoch != epoch)
        {
            return ReassemblyResult.Inconsistent;
        }
        if (slot.Received == slot.Length) return ReassemblyResult.Duplicate;
        fragment.Body.CopyTo(slot.Buffer.AsSpan(fragment.FragmentOffset));
        byte[] mask = slot.Mask;
        int end = fragment.FragmentOffset + fragment.Body.Length;
        for (int i = fragment.FragmentOffset; i < end; i++)
        {
            if (mask[i] == 0)
            {
                mask[i] = 1;
                slot.Received++;
            }
        }
        return ReassemblyResult.Buffered;
    }

    /// <summary>
    /// The next complete in-order message. The body is valid until the next <see cref="Add"/>.
    /// </summary>
    public bool TryTake(out HandshakeType type, out ushort seq, out ushort epoch, out ReadOnlySpan<byte> body)
    {
        Slot slot = _slots[NextSequence % MaxPending];
        if (!slot.InUse || slot.Seq != NextSequence || slot.Received != slot.Length)
        {
            type = default;
            seq = 0;
            epoch = 0;
            body = default;
            return false;
        }
        slot.InUse = false;
        type = slot.Type;
        seq = slot.Seq;
        epoch = slot.Epoch;
        body = slot.Buffer.AsSpan(0, slot.Length);
        NextSequence++;
        return true;
    }

    private sealed class Slot
    {
        public bool InUse;
        public ushort Seq;
        public ushort Epoch;
        public HandshakeType Type;
        public int Length;
        public int Received;
        public byte[] Buffer = [];
        public byte[] Mask = [];

        public void Start(ushort seq, HandshakeType type, int length, ushort epoch)
        {
            InUse = true;
            Seq = seq;
            Type = type;
            Length = length;
            Epoch = epoch;
            Received = 0;
            if (Buffer.Length < length)
            {
                Buffer = new byte[length];
                Mask = new byte[length];
            }
            else
            {
                Mask.AsSpan(0, length).Clear();
            }
        }
    }
}

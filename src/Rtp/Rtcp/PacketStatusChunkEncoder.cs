using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Engine.Rtp.Rtcp;

/// <summary>
/// Turns a stream of status symbols into packet status chunks
/// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.2-§3.1.4): long runs of one symbol
/// become run-length chunks, mixed stretches become status vectors, one-bit (14 symbols) when
/// only "not received"/"small delta" occur, else two-bit (7 symbols). A plain value: copying it
/// is a snapshot, so the builder can try a symbol and roll back if the packet would overflow.
/// </summary>
internal ref struct PacketStatusChunkEncoder
{
    private const int MaxRunLength = 0x1fff;

    private readonly Span<byte> _destination;
    private int _chunkCount;
    private Pending _pending;
    private int _pendingCount;
    private bool _allSame;
    private bool _hasTwoBitSymbol;

    public PacketStatusChunkEncoder(Span<byte> destination)
    {
        _destination = destination;
        _chunkCount = 0;
        _pending = default;
        _pendingCount = 0;
        _allSame = true;
        _hasTwoBitSymbol = false;
        Overflowed = false;
    }

    /// <summary>True once a chunk did not fit the destination.</summary>
    public bool Overflowed { get; private set; }

    public readonly int ChunkCount => _chunkCount;

    /// <summary>Chunks after <see cref="Flush"/>, an upper bound before it.</summary>
    public readonly int ChunkCountAfterFlush =>
        _chunkCount + (_pendingCount == 0 ? 0 : _allSame || !_hasTwoBitSymbol ? 1 : (_pendingCount + 6) / 7);

    public void Add(PacketStatusSymbol symbol, int count)
    {
        for (int i = 0; i < count; i++)
            Add((byte)symbol);
    }

    private void Add(byte symbol)
    {
        if (_pendingCount > 0 && _allSame && symbol == _pending[0])
        {
            if (_pendingCount < MaxRunLength)
            {
                if (_pendingCount < Pending.Capacity)
                    _pending[_pendingCount] = symbol;
                _pendingCount++;
                return;
            }
            EmitRun();
        }
        bool twoBit = symbol >= 2;
        if (_pendingCount > 0 && _allSame)
        {
            int capacity = _hasTwoBitSymbol || twoBit ? 7 : 14;
            if (_pendingCount >= capacity)
                EmitRun();
        }
        while (true)
        {
            int capacity = _hasTwoBitSymbol || twoBit ? 7 : 14;
            if (_pendingCount < capacity)
            {
                Append(symbol);
                return;
            }
            if (!(_hasTwoBitSymbol || twoBit))
                EmitOneBitVector();
            else
                EmitTwoBitVector();
        }
    }

    public void Flush()
    {
        if (_pendingCount == 0)
            return;
        if (_allSame)
            EmitRun();
        else if (!_hasTwoBitSymbol)
            EmitOneBitVector();
        else
            while (_pendingCount > 0)
                EmitTwoBitVector();
    }

    private void Append(byte symbol)
    {
        if (_pendingCount == 0)
        {
            _allSame = true;
            _hasTwoBitSymbol = false;
        }
        else if (symbol != _pending[0])
            _allSame = false;
        _pending[_pendingCount++] = symbol;
        _hasTwoBitSymbol |= symbol >= 2;
    }

    private void EmitRun()
    {
        // §3.1.3: T=0, S (2 bits), run length (13 bits).
        Emit(_pending[0] << 13 | _pendingCount);
        _pendingCount = 0;
    }

    private void EmitOneBitVector()
    {
        // §3.1.4: T=1, S=0, 14 one-bit symbols; unused trailing symbols stay 0.
        int chunk = 0x8000;
        for (int i = 0; i < _pendingCount; i++)
            chunk |= _pending[i] << (13 - i);
        Emit(chunk);
        _pendingCount = 0;
    }

    private void EmitTwoBitVector()
    {
        int take = Math.Min(7, _pendingCount);
        int chunk = 0xc000;
        for (int i = 0; i < take; i++)
            chunk |= _pending[i] << (12 - 2 * i);
        Emit(chunk);
        int left = _pendingCount - take;
        _pendingCount = 0;
        for (int i = 0; i < left; i++)
            Append(_pending[take + i]);
    }

    private void Emit(int chunk)
    {
        int offset = 2 * _chunkCount++;
        if (offset + 2 > _destination.Length)
            Overflowed = true;
        else
            BinaryPrimitives.WriteUInt16BigEndian(_destination[offset..], (ushort)chunk);
    }

    [InlineArray(Capacity)]
    private struct Pending
    {
        public const int Capacity = 14;
        private byte _element;
    }
}

using Engine.Host.Sessions;
using Engine.Ice;
using Xunit;

namespace Engine.Host.Tests.Sessions;

public class TransmitQueueTests
{
    private static readonly NetAddress To = NetAddress.FromIPEndPoint(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 5000));

    [Fact]
    public void SlotsComeAtFirstUseAndAQueueDrainedEachTimeKeepsItsFirstChunk()
    {
        var q = new TransmitQueue(64);
        Assert.Equal(0, q.StorageBytes);
        var out_ = new byte[TransmitQueue.SlotBytes];
        for (int i = 0; i < 1000; i++)
        {
            var slot = q.Reserve();
            slot[0] = (byte)i;
            q.Commit(1 + i % 100, To);
            Assert.True(q.TryDequeue(out_, out int n, out _));
            Assert.Equal(1 + i % 100, n);
            Assert.Equal((byte)i, out_[0]);
        }
        Assert.Equal(4 * TransmitQueue.SlotBytes, q.StorageBytes); // one chunk: the ring did not walk all 64 slots
    }

    [Fact]
    public void FirstInFirstOutUpToCapacityThenDropsTheNew()
    {
        var q = new TransmitQueue(10);
        for (int i = 0; i < 12; i++)
        {
            var slot = q.Reserve();
            if (!slot.IsEmpty)
                slot[0] = (byte)i;
            q.Commit(5, To);
        }
        Assert.Equal(2, q.Dropped);
        Assert.Equal(12 * TransmitQueue.SlotBytes, q.StorageBytes); // 3 chunks of 4 cover the 10 slots
        var out_ = new byte[TransmitQueue.SlotBytes];
        for (int i = 0; i < 10; i++)
        {
            Assert.True(q.TryDequeue(out_, out _, out var to));
            Assert.Equal((byte)i, out_[0]);
            Assert.Equal(To, to);
        }
        Assert.False(q.TryDequeue(out_, out _, out _));
    }
}

using Engine.Host.Transport;

namespace Engine.Host.Tests.Transport;

public sealed class TimerHeapTests
{
    private sealed class Key(int id)
    {
        public int Id { get; } = id;
    }

    [Fact]
    public void SettingAKeyAgainMovesItsOneEntry()
    {
        var heap = new TimerHeap<Key>();
        var a = new Key(1);
        var b = new Key(2);
        heap.Set(a, 100);
        heap.Set(b, 50);
        heap.Set(a, 10);
        heap.Set(a, 200);
        Assert.Equal(2, heap.Count);
        Assert.True(heap.TryPeek(out var first, out long due));
        Assert.Same(b, first);
        Assert.Equal(50, due);
        heap.Set(b, long.MaxValue); // nothing scheduled: no entry
        Assert.Equal(1, heap.Count);
        Assert.False(heap.TryPopDue(199, out _));
        Assert.True(heap.TryPopDue(200, out var popped));
        Assert.Same(a, popped);
        Assert.Equal(0, heap.Count);
        Assert.False(heap.Remove(a));
    }

    [Fact]
    public void RandomOperationsMatchASortedModel()
    {
        var rng = new Random(7);
        var keys = Enumerable.Range(0, 64).Select(i => new Key(i)).ToArray();
        var heap = new TimerHeap<Key>();
        var model = new Dictionary<Key, long>();
        for (int step = 0; step < 20_000; step++)
        {
            var k = keys[rng.Next(keys.Length)];
            switch (rng.Next(4))
            {
                case 0 or 1:
                    long due = rng.Next(1000);
                    heap.Set(k, due);
                    model[k] = due;
                    break;
                case 2:
                    Assert.Equal(model.Remove(k), heap.Remove(k));
                    break;
                default:
                    long now = rng.Next(1000);
                    while (heap.TryPopDue(now, out var p))
                    {
                        long min = model.Values.Min();
                        Assert.Equal(min, model[p]);
                        Assert.True(min <= now);
                        model.Remove(p);
                    }
                    Assert.True(model.Count == 0 || model.Values.Min() > now);
                    break;
            }
            Assert.Equal(model.Count, heap.Count);
        }
    }

    [Fact]
    public void MovingEntriesAllocatesNothing()
    {
        var keys = Enumerable.Range(0, 100).Select(i => new Key(i)).ToArray();
        var heap = new TimerHeap<Key>();
        foreach (var k in keys) heap.Set(k, k.Id);
        void Churn()
        {
            for (int i = 0; i < 10_000; i++)
            {
                heap.Set(keys[i % 100], 1000 + (i * 7919) % 5000);
                if (i % 10 == 0 && heap.TryPopDue(long.MaxValue - 1, out var k))
                    heap.Set(k, i);
            }
        }
        Churn(); // first calls JIT and tier up, which the runtime may charge to this thread (6,472 B once in CI)
        long before = GC.GetAllocatedBytesForCurrentThread();
        Churn();
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}

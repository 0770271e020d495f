namespace Engine.Srtp.Tests;

/// <summary>The 128-packet replay window against a plain model of RFC 3711 §3.3.2 (a set of seen indices).</summary>
public class ReplayWindowTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void MatchesASetBasedModel(int seed)
    {
        var rng = new Random(seed);
        var window = new ReplayWindow();
        var seen = new HashSet<ulong>();
        ulong highest = 0;
        bool started = false;
        ulong cursor = 1000;
        for (int step = 0; step < 20_000; step++)
        {
            // Mostly near the front, sometimes far behind or far ahead.
            cursor += (ulong)rng.Next(0, 3);
            ulong index = rng.Next(10) switch
            {
                0 => cursor + (ulong)rng.Next(0, 400),
                1 => cursor - (ulong)Math.Min((long)cursor, rng.Next(100, 300)),
                _ => cursor - (ulong)Math.Min((long)cursor, rng.Next(0, 140)),
            };
            SrtpResult expected = !started || index > highest ? SrtpResult.Ok
                : highest - index >= ReplayWindow.Size ? SrtpResult.TooOld
                : seen.Contains(index) ? SrtpResult.Replay
                : SrtpResult.Ok;
            Assert.Equal(expected, window.Check(index));
            // Like the session: a packet is marked only when the check passed (and, there, it authenticated).
            if (expected == SrtpResult.Ok && rng.Next(4) != 0)
            {
                window.Accept(index);
                seen.Add(index);
                highest = started ? Math.Max(highest, index) : index;
                started = true;
                cursor = Math.Max(cursor, index);
            }
            Assert.Equal(highest, window.Highest);
        }
    }
}

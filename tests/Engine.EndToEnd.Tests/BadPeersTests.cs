using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 5: wrong ufrag, wrong password, wrong fingerprint and garbage at the media port while a
/// real browser publishes: the live session carries on, the bad input is counted.
/// </summary>
[Collection("chromium")]
public class BadPeersTests
{
    private static byte[] StunCheck(string username, string password)
    {
        // RFC 8489 §5: a binding request with USERNAME and MESSAGE-INTEGRITY made with the given password.
        var user = Encoding.ASCII.GetBytes(username);
        int userPadded = (user.Length + 3) & ~3;
        var m = new byte[20 + 4 + userPadded + 24 + 8];
        BinaryPrimitives.WriteUInt16BigEndian(m, 0x0001);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), 0x2112A442);
        Random.Shared.NextBytes(m.AsSpan(8, 12));
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(20), 0x0006);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(22), (ushort)user.Length);
        user.CopyTo(m, 24);
        int mi = 24 + userPadded;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(mi), 0x0008);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(mi + 2), 20);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), (ushort)(mi + 24 - 20)); // length up to MESSAGE-INTEGRITY (RFC 8489 §14.5)
        System.Security.Cryptography.HMACSHA1.HashData(Encoding.ASCII.GetBytes(password), m.AsSpan(0, mi), m.AsSpan(mi + 4));
        // FINGERPRINT (RFC 8489 §14.7): CRC-32 of everything before it, XOR 0x5354554e.
        int fp = mi + 24;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), (ushort)(m.Length - 20));
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(fp), 0x8028);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(fp + 2), 4);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(fp + 4), Crc32(m.AsSpan(0, fp)) ^ 0x5354554e);
        return m;
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    private static JsonElement Session(JsonElement streams, string stream) =>
        streams.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("stream").GetString() == stream);

    private static long VideoFrames(JsonElement session) =>
        session.GetProperty("tracks").EnumerateArray().Single(t => t.GetProperty("kind").GetString() == "video").GetProperty("frames").GetInt64();

    [Fact]
    public async Task TheLiveSessionIsUnaffectedAndTheBadOnesAreCounted()
    {
        using var engine = new EngineProcess();
        await using var live = new ChromiumPage($"http://127.0.0.1:{engine.HttpPort}/?stream=live&autostart=1&loopback=1");
        await Tools.PollAsync(live.StateAsync, s => s is "connected" || s.StartsWith("failed"), TimeSpan.FromSeconds(40), "the live publisher");
        Assert.Equal("connected", await live.StateAsync());
        await Tools.PollAsync(async () => VideoFrames(Session(await engine.StreamsAsync(), "live")), n => n > 10, TimeSpan.FromSeconds(20), "video frames");
        string answer = (await live.EvaluateAsync("window.answerSdp")).GetString()!;
        string ufrag = Regex.Match(answer, @"a=ice-ufrag:(\S+)").Groups[1].Value;
        string browserUfrag = Regex.Match((await live.EvaluateAsync("pc.localDescription.sdp")).GetString()!, @"a=ice-ufrag:(\S+)").Groups[1].Value;
        long framesBefore = VideoFrames(Session(await engine.StreamsAsync(), "live"));

        using (var attacker = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            var target = new IPEndPoint(IPAddress.Loopback, engine.MediaPort);
            var rng = new Random(1);
            for (int i = 0; i < 200; i++)
            {
                var junk = new byte[rng.Next(1, 1400)];
                rng.NextBytes(junk);
                attacker.SendTo(junk, target);
            }
            for (int i = 0; i < 5; i++)
                attacker.SendTo(StunCheck("nosuchufrag:x", "whatever-password-123"), target);
            for (int i = 0; i < 5; i++)
                attacker.SendTo(StunCheck(ufrag + ":" + browserUfrag, "not-the-password-at-all"), target);
            for (int i = 0; i < 5; i++)
                attacker.SendTo(StunCheck(ufrag + ":someone-else", "not-the-password-at-all"), target);
        }

        // A second browser whose offer carries a fingerprint that is not its certificate's.
        await using (var forged = new ChromiumPage($"http://127.0.0.1:{engine.HttpPort}/?stream=forged&autostart=1&loopback=1&tamperFingerprint=1"))
        {
            await Tools.PollAsync(forged.StateAsync, s => s.StartsWith("failed") || s is "connected", TimeSpan.FromSeconds(40), "the forged publisher to fail");
            Assert.StartsWith("failed", await forged.StateAsync());
        }
        Assert.Contains("DTLS failed", engine.Output);

        await Task.Delay(2000);
        var streams = await engine.StreamsAsync();
        var session = Session(streams, "live");
        Assert.Equal("media", session.GetProperty("state").GetString());
        Assert.True(VideoFrames(session) > framesBefore + 20, "the live session stopped receiving video");
        var port = streams.GetProperty("mediaPort");
        Assert.True(port.GetProperty("droppedUnknownUfrag").GetInt64() >= 5);
        Assert.True(port.GetProperty("droppedUnknownKind").GetInt64() + port.GetProperty("droppedUnknownAddress").GetInt64()
            + port.GetProperty("droppedUnknownUfrag").GetInt64() >= 200);
        Assert.True(session.GetProperty("counters").GetProperty("iceBadIntegrity").GetInt64() >= 5);
        Assert.True(session.GetProperty("counters").GetProperty("iceWrongUsername").GetInt64() >= 5);
        Assert.Equal(0, port.GetProperty("sessionFaults").GetInt64());
        Assert.DoesNotContain(streams.GetProperty("streams").EnumerateArray(), s => s.GetProperty("stream").GetString() == "forged");
    }
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 18's signals on the AOT binary: SIGTERM while Pion publishes finishes the RTMP output
/// (nginx logs the client's deleteStream before its disconnect) and the FLV recording (its
/// trailer wrote the duration, ffprobe reads all of it), removes the pid file and exits 0; SIGHUP
/// applies a changed LOGLEVEL and names a changed port as needing a restart; a second SIGTERM
/// exits at once with 143.
/// </summary>
[Collection("chromium")] // one heavy peer at a time: the machine has two cores
public class LifecycleTests
{
    private const int Sigterm = 15, Sighup = 1;
    private static readonly TimeSpan ExitBound = TimeSpan.FromSeconds(15); // the engine's own budget is 5 s; a loaded machine gets slack

    private static string PeersDir => Path.Combine(Tools.RepoRoot, "tests", "Engine.EndToEnd.Tests", "peers");

    /// <summary>Pion publishing testsrc H.264 and Opus for up to 30 s, in the background; killed on dispose.</summary>
    private sealed class Publisher : IDisposable
    {
        private readonly Process _process;

        public Publisher(EngineProcess engine, string stream)
        {
            var build = Tools.Run("/bin/bash", $"\"{Path.Combine(PeersDir, "build-pionwhip.sh")}\"", timeoutMs: 300_000);
            Assert.True(build.Code == 0, "building peers/pionwhip failed: " + build.Stderr + build.Stdout);
            string h264 = Path.Combine(engine.Directory, "testsrc.h264");
            string ogg = Path.Combine(engine.Directory, "sine.ogg");
            var ffmpeg = Tools.Require("ffmpeg");
            var v = Tools.Run(ffmpeg, $"-v error -y -f lavfi -i testsrc=size=320x240:rate=30:duration=31 -c:v libx264 -profile:v baseline -pix_fmt yuv420p -g 30 -preset veryfast -f h264 \"{h264}\"");
            Assert.True(v.Code == 0, v.Stderr);
            var a = Tools.Run(ffmpeg, $"-v error -y -f lavfi -i sine=frequency=440:sample_rate=48000:duration=31 -c:a libopus -b:a 64k -frame_duration 20 -page_duration 20000 \"{ogg}\"");
            Assert.True(a.Code == 0, a.Stderr);
            _process = Tools.StartDrained(build.Stdout.Trim(), $"-url http://127.0.0.1:{engine.HttpPort}/whip/{stream} -h264 \"{h264}\" -ogg \"{ogg}\" -seconds 30");
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
            _process.Dispose();
        }
    }

    private static Task<JsonElement> WaitMediaAsync(EngineProcess engine) =>
        Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("streams"),
            s => s.GetArrayLength() == 1 && s[0].GetProperty("state").GetString() == "media", TimeSpan.FromSeconds(30), "the publisher's media");

    private static void StopAndAssertClean(EngineProcess engine, string? pidFile)
    {
        var sw = Stopwatch.StartNew();
        engine.Signal(Sigterm);
        Assert.True(engine.WaitForExit(ExitBound), "the engine did not exit after SIGTERM\n" + engine.Output);
        Console.WriteLine($"SIGTERM to exit: {sw.ElapsedMilliseconds} ms");
        Assert.True(engine.ExitCode == 0, $"exit code {engine.ExitCode}\n{engine.Output}");
        if (pidFile != null)
            Assert.False(File.Exists(pidFile), "the pid file is still there");
    }

    [Fact]
    public async Task SigtermFinishesTheRtmpOutputWithAnUnpublishAndRemovesThePidFile()
    {
        using var nginx = new NginxRtmp();
        string pid = Path.Combine(Path.GetTempPath(), $"engine-e2e-{Guid.NewGuid():n}.pid");
        string logs = Path.Combine(Path.GetTempPath(), $"engine-e2e-logs-{Guid.NewGuid():n}");
        using var engine = new EngineProcess($"RTP2RTMPBASEURL={nginx.BaseUrl}\n[BASE]\nPID={pid}\n[LOG]\nLOGLEVEL=4\nLOGDIR={logs}\nDEBUGMODE=1");
        try
        {
            Assert.Equal(engine.Pid.ToString(CultureInfo.InvariantCulture), File.ReadAllText(pid).Trim());
            using (new Publisher(engine, "stop-rtmp"))
            {
                await WaitMediaAsync(engine);
                await Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("streams")[0].GetProperty("outputs")[0],
                    o => o.GetProperty("state").GetString() == "live" && o.GetProperty("videoFrames").GetInt64() > 30, TimeSpan.FromSeconds(20), "the RTMP output to be live");
                StopAndAssertClean(engine, pid);
            }
            // nginx logs a client's deleteStream when the client sends it, and once more when the connection goes.
            var lines = nginx.ErrorLog.Split('\n');
            int published = Array.FindIndex(lines, l => l.Contains("publish: name='stop-rtmp'"));
            Assert.True(published >= 0, nginx.ErrorLog);
            int deleted = Array.FindIndex(lines, published, l => l.Contains("deleteStream"));
            int disconnected = Array.FindIndex(lines, published, l => l.Contains("disconnect"));
            Assert.True(deleted > published && disconnected > deleted, "no deleteStream before the disconnect:\n" + nginx.ErrorLog);

            // LOGDIR: the day's file at LOGLEVEL 4 (no debug lines), DEBUGMODE's file with them.
            string day = DateTime.UtcNow.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
            string main = File.ReadAllText(Path.Combine(logs, $"engine-{day}.log"));
            string debug = File.ReadAllText(Path.Combine(logs, $"engine-debug-{day}.log"));
            Assert.Contains("stopping (SIGTERM)", main);
            Assert.Contains("stopped in", main);
            Assert.DoesNotContain(" DEBUG ", main);
            Assert.DoesNotContain("abandoned", main);
            Assert.Contains(" DEBUG ", debug);
            Assert.Contains("stopping (SIGTERM)", debug);
        }
        finally
        {
            File.Delete(pid);
            try { Directory.Delete(logs, true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task SigtermLeavesAPlayableRecordingOfEverySecond()
    {
        using var engine = new EngineProcess();
        const string stream = "stop-record";
        double published;
        using (new Publisher(engine, stream))
        {
            await WaitMediaAsync(engine);
            var media = Stopwatch.StartNew();
            await Task.Delay(4000);
            published = media.Elapsed.TotalSeconds;
            StopAndAssertClean(engine, null);
        }
        string flv = Path.Combine(engine.Directory, "recordings", stream + ".flv");
        Assert.True(File.Exists(flv), "no recording\n" + engine.Output);
        // The trailer ran: libavformat rewrote onMetaData's duration (0 until then).
        double metaDuration = MetaDuration(File.ReadAllBytes(flv));
        var probe = Tools.Run(Tools.Require("ffprobe"), $"-v error -show_entries format=duration -of csv=p=0 \"{flv}\"");
        Assert.Equal(0, probe.Code);
        double duration = double.Parse(probe.Stdout.Trim(), CultureInfo.InvariantCulture);
        Console.WriteLine($"published {published:F1} s, onMetaData duration {metaDuration:F2} s, ffprobe {duration:F2} s");
        Assert.True(metaDuration > 0, "onMetaData's duration is 0: the trailer was not written\n" + engine.Output);
        Assert.True(duration >= published - 1.5 && duration <= published + 3, $"recorded {duration:F2} s of {published:F1} s published\n" + engine.Output);
        var decode = Tools.Run(Tools.Require("ffmpeg"), $"-v error -i \"{flv}\" -f null -");
        Assert.True(decode.Code == 0 && decode.Stderr.Trim() == "", $"decode: {decode.Stderr}\n{engine.Output}");
        Assert.True(engine.Output.Contains("outputs closed"), engine.Output);
    }

    /// <summary>onMetaData's "duration": the AMF0 number (0x00 then a big-endian double) after the key.</summary>
    private static double MetaDuration(byte[] flv)
    {
        var key = Encoding.ASCII.GetBytes("duration");
        int at = flv.AsSpan(0, Math.Min(flv.Length, 4096)).IndexOf(key);
        Assert.True(at > 0 && flv[at + key.Length] == 0, "no onMetaData duration");
        return BinaryPrimitives.ReadDoubleBigEndian(flv.AsSpan(at + key.Length + 1, 8));
    }

    [Fact]
    public async Task SighupAppliesTheLogLevelAndNamesWhatNeedsARestart()
    {
        using var engine = new EngineProcess("[BASE]\nSTATETIME=1");
        // STATETIME=1: a statistics line every second.
        await Tools.PollAsync(() => Task.FromResult(engine.Output), o => o.Contains("stats: sessions 0 (0 with media), players 0"), TimeSpan.FromSeconds(10), "a STATETIME line");

        string config = File.ReadAllText(engine.ConfigPath);
        File.WriteAllText(engine.ConfigPath, config.Replace("LOGLEVEL=5", "LOGLEVEL=6"));
        engine.Signal(Sighup);
        await Tools.PollAsync(() => Task.FromResult(engine.Output), o => o.Contains("reload (SIGHUP)"), TimeSpan.FromSeconds(10), "the SIGHUP reload");
        Assert.Contains("applied [[LOG] LOGLEVEL]", engine.Output);
        Assert.DoesNotContain("restart is needed", engine.Output);
        // Debug now: a publish logs its offer and answer at debug level.
        string offer = File.ReadAllText(Path.Combine(Tools.RepoRoot, "tests", "fixtures", "chromium156-offer.sdp"));
        var published = await engine.Http.PostAsync("/whip/dbg", new StringContent(offer, Encoding.UTF8, "application/sdp"));
        Assert.Equal(System.Net.HttpStatusCode.Created, published.StatusCode);
        await Tools.PollAsync(() => Task.FromResult(engine.Output), o => o.Contains(" DEBUG session "), TimeSpan.FromSeconds(10), "a debug line");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await engine.Http.DeleteAsync(published.Headers.Location)).StatusCode);

        File.WriteAllText(engine.ConfigPath, config.Replace("LOGLEVEL=5", "LOGLEVEL=6").Replace($"PORT={engine.HttpPort}", $"PORT={Tools.FreeTcpPort()}"));
        engine.Signal(Sighup);
        await Tools.PollAsync(() => Task.FromResult(engine.Output), o => o.Contains("a restart is needed for [[BASE] PORT]"), TimeSpan.FromSeconds(10), "the restart key named");
        // The old port still serves; /reload says the same, in the legacy JSON.
        var reload = JsonDocument.Parse(await engine.Http.GetStringAsync("/reload")).RootElement;
        Assert.Equal(1, reload.GetProperty("ret").GetInt32());
        Assert.Equal("[BASE] PORT", reload.GetProperty("restart")[0].GetString());
        Assert.Equal(0, reload.GetProperty("applied").GetArrayLength());

        File.WriteAllText(engine.ConfigPath, config.Replace("LOGLEVEL=5", "LOGLEVEL=9"));
        var bad = await engine.Http.GetAsync("/reload");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        var badJson = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(0, badJson.GetProperty("ret").GetInt32());
        Assert.Contains("LOGLEVEL=9", badJson.GetProperty("errmsg").GetString());
        StopAndAssertClean(engine, null);
    }

    [Fact]
    public async Task ASecondSigtermExitsAtOnce()
    {
        string pid = Path.Combine(Path.GetTempPath(), $"engine-e2e-{Guid.NewGuid():n}.pid");
        using var engine = new EngineProcess($"[BASE]\nPID={pid}");
        try
        {
            // A WHIP offer whose body never finishes holds Kestrel's stop for the rest of the 5 s budget.
            using var hanging = new TcpClient();
            await hanging.ConnectAsync("127.0.0.1", engine.HttpPort);
            await hanging.GetStream().WriteAsync(Encoding.ASCII.GetBytes(
                $"POST /whip/hang HTTP/1.1\r\nHost: 127.0.0.1:{engine.HttpPort}\r\nContent-Type: application/sdp\r\nContent-Length: 100000\r\n\r\nv=0\r\n"));
            await Task.Delay(300);
            engine.Signal(Sigterm);
            await Tools.PollAsync(() => Task.FromResult(engine.Output), o => o.Contains("stopping (SIGTERM)"), TimeSpan.FromSeconds(5), "the stop to start");
            Assert.False(engine.WaitForExit(TimeSpan.Zero), "the stop ended before the second signal\n" + engine.Output);
            var sw = Stopwatch.StartNew();
            engine.Signal(Sigterm);
            Assert.True(engine.WaitForExit(ExitBound), "no exit after the second SIGTERM\n" + engine.Output);
            Console.WriteLine($"second SIGTERM to exit: {sw.ElapsedMilliseconds} ms");
            Assert.True(engine.ExitCode == 143, $"exit code {engine.ExitCode}\n{engine.Output}");
            Assert.Contains("SIGTERM while stopping: exiting at once with code 143", engine.Output);
            Assert.False(File.Exists(pid), "the pid file is still there");
        }
        finally
        {
            File.Delete(pid);
        }
    }
}

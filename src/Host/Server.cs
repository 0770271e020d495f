using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Engine.Dtls;
using Engine.Host.Config;
using Engine.Host.Http;
using Engine.Host.Logging;
using Engine.Host.Media;
using Engine.Host.Sessions;
using Engine.Host.Signaling;
using Engine.Host.Transport;

namespace Engine.Host;

/// <summary>Starts the media loop and the HTTP control plane, and runs until SIGINT/SIGTERM.</summary>
public static class Server
{
    /// <param name="configPath">The file <paramref name="config"/> was read from: SIGHUP and /reload re-read it.</param>
    public static int Run(EngineConfig config, string? dumpDirectory, TextWriter stdout, TextWriter stderr, string? configPath = null)
    {
        // First: a signal during start-up stops the server once it is up instead of killing it half-made.
        using var signals = new StopSignals(); // StopSignals.cs: SIGTERM/SIGINT stop (a second exits at once), SIGHUP reloads
        ConfigureLog(config);
        DtlsCertificate certificate;
        try
        {
            certificate = config.DtlsCertificatePath != null
                ? DtlsCertificate.LoadPem(config.DtlsCertificatePath, config.DtlsKeyPath!)
                : DtlsCertificate.Generate();
        }
        catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            stderr.WriteLine($"error: [WEBRTC] DTLSCER/DTLSKEY: {e.Message}");
            return 2;
        }
        string? ffmpegError = null;
        if (config.Rtp2RtmpShell == null && (!Engine.Codec.FfmpegLibrary.TryLoad(out ffmpegError)
                || (StreamSinkFactory.NeedsLibavformat(config) && !Engine.Codec.FfmpegLibrary.TryLoadFormat(out ffmpegError))))
        {
            stderr.WriteLine($"error: {ffmpegError} (needed to push or record streams; or set [WEBRTC] RTP2RTMPSHELL)");
            return 2;
        }
        if (config.Rtp2RtmpShell == null)
            Log.Notice($"FFmpeg: {Engine.Codec.FfmpegLibrary.Versions}");
        Engine.Codec.RtmpClientSettings.SendIntervalMillis = config.RtmpSendMillis;
        MediaLoop loop;
        try
        {
            loop = new MediaLoop(MediaBind(config));
        }
        catch (SocketException e)
        {
            stderr.WriteLine($"error: cannot bind the media port [WEBRTC] WEBRTCPORTSTART={config.WebRtcPort}: {e.Message}");
            return 2;
        }
        using (loop)
        using (certificate)
        {
            Turn.TurnHost? turnHost = null;
            if (config.Turn != null)
            {
                try
                {
                    turnHost = new Turn.TurnHost(config.Turn, config.DtlsCertificatePath, config.DtlsKeyPath, Turn.TurnHost.MediaAddresses(loop.LocalEndPoint));
                }
                catch (Exception e) when (e is SocketException or IOException or System.Security.Cryptography.CryptographicException)
                {
                    stderr.WriteLine($"error: [TURN]: {e.Message}");
                    return 2;
                }
                turnHost.Start();
                Log.Notice($"TURN: {string.Join(", ", turnHost.Listening)}");
            }
            using var turnScope = turnHost;
            var sinks = new StreamSinkFactory(config, dumpDirectory);
            var service = new PublishService(config, loop, certificate, sinks.Create);
            using var hooks = new Hooks.HookService(config);
            loop.Start();
            HttpFrontend frontend;
            try
            {
                frontend = HttpFrontend.StartAsync(config, service, new TurnCredentials(config), TimeProvider.System, config.IceLocalIp is { } ip && !ip.Equals(IPAddress.Any) ? ip : null, turnServer: turnHost, hooks: hooks)
                    .GetAwaiter().GetResult();
            }
            catch (IOException e)
            {
                stderr.WriteLine($"error: cannot listen on [BASE] PORT={config.HttpPort}: {e.Message}");
                return 2;
            }
            var lifecycle = new ServerLifecycle(config, configPath, ApplyLive);
            lifecycle.ConfigReloaded += hooks.Apply; // [EXT] keys live
            frontend.Lifecycle = lifecycle;
            signals.Lifecycle = lifecycle;
            if (config.PidFile != null)
            {
                File.WriteAllText(config.PidFile, Environment.ProcessId + "\n");
                signals.PidFile = config.PidFile;
            }
            stdout.WriteLine($"engine {Cli.Version}: http://0.0.0.0:{frontend.Port}/ (WHIP POST /whip/{{stream}}, WHEP POST /whep/{{stream}}, WebSocket /ws{(frontend.WebSocketPort is int w ? $" and :{w}" : "")}), media udp {loop.LocalEndPoint}, DTLS {certificate.Fingerprint}{(turnHost != null ? $", TURN {string.Join(", ", turnHost.Listening)}" : "")}");
            stdout.Flush();
            Log.Notice($"started: http {frontend.Port}, media {loop.LocalEndPoint}");
            try
            {
                using var stats = StatsReporter.Start(service, config, signals.Token);
                signals.WaitForStop();
                Stop(signals, lifecycle, service, sinks, frontend);
            }
            finally
            {
                signals.DeletePidFile();
            }
        } // the hooks, TURN, the media loop: disposed under the watchdog too
        signals.Finish();
        Log.Notice($"stopped in {signals.SinceSignal.TotalMilliseconds:F0} ms");
        Log.Flush(signals.Remaining > TimeSpan.FromMilliseconds(200) ? signals.Remaining : TimeSpan.FromMilliseconds(200));
        return 0;
    }

    /// <summary>
    /// The stop, within <see cref="StopSignals.Budget"/> of the signal: refuse new sessions, end
    /// every session on the media thread (close_notify to every peer), then let the outputs write
    /// their trailers and unpublish while Kestrel closes. What is not done in time is logged; the
    /// watchdog exits if a step overruns anyway.
    /// </summary>
    private static void Stop(StopSignals signals, ServerLifecycle lifecycle, PublishService service, StreamSinkFactory sinks, HttpFrontend frontend)
    {
        lifecycle.MarkStopping();
        signals.StartWatchdog(() => $"outputs not closed: [{string.Join(", ", sinks.OpenOutputs.Select(o => $"{o.Url} ({o.State})"))}]");
        Log.Notice($"stopping ({signals.Signal}): refusing new sessions, ending {service.SessionCount} sessions and {service.PlayerCount} players");
        var outputs = sinks.OpenOutputs; // before the sessions end: their outputs start closing then
        var ended = service.ShutdownAsync("server stopping");
        if (!ended.Wait(Min(Left(signals, 1000), TimeSpan.FromSeconds(2))))
            Log.Error($"stop: sessions not all ended on the media thread: {service.SessionCount} sessions, {service.PlayerCount} players left");
        // Kestrel gets what is left for requests in flight, alongside the outputs.
        var http = frontend.StopAsync(Left(signals, 400));
        outputs = outputs.Union(sinks.OpenOutputs).ToList(); // and those of a publish that raced the stop
        if (!Task.WhenAll(outputs.Select(o => o.Completion)).Wait(Left(signals, 300)))
            Log.Error($"stop: outputs abandoned: [{string.Join(", ", sinks.OpenOutputs.Select(o => $"{o.Url} ({o.State})"))}]");
        else if (outputs.Count > 0)
            Log.Notice($"stop: {outputs.Count} outputs closed: [{string.Join(", ", outputs.Select(o => $"{o.Url} ({o.State})"))}]");
        if (!http.Wait(Left(signals, 200)))
            Log.Error("stop: HTTP requests still open were abandoned");
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>The budget left minus a margin for the steps after, never negative.</summary>
    private static TimeSpan Left(StopSignals signals, int marginMillis)
    {
        var left = signals.Remaining - TimeSpan.FromMilliseconds(marginMillis);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>What the server itself does after a reload copied live keys into the running config.</summary>
    private static void ApplyLive(EngineConfig config)
    {
        ApplyLogLevels(config);
        Engine.Codec.RtmpClientSettings.SendIntervalMillis = config.RtmpSendMillis;
    }

    private static IPEndPoint MediaBind(EngineConfig config)
    {
        if (config.IceLocalIp != null)
            return new IPEndPoint(config.IceLocalIp, config.WebRtcPort);
        return Socket.OSSupportsIPv6 ? new IPEndPoint(IPAddress.IPv6Any, config.WebRtcPort) : new IPEndPoint(IPAddress.Any, config.WebRtcPort);
    }

    /// <summary>LOGDIR: daily files with size rotation (engine-YYYYMMDD.log); stderr without it.</summary>
    private static void ConfigureLog(EngineConfig config)
    {
        if (config.LogDir != null)
            Log.SetWriter(new RotatingLogFile(config.LogDir, "engine"));
        ApplyLogLevels(config);
    }

    /// <summary>
    /// LOGLEVEL for the main log; DEBUGMODE=1 adds the full debug log beside it
    /// (engine-debug-YYYYMMDD.log in LOGDIR), or, without LOGDIR, raises stderr to debug.
    /// </summary>
    private static void ApplyLogLevels(EngineConfig config)
    {
        if (config.LogDir == null)
        {
            Log.Level = config.DebugMode ? LogLevel.Debug : (LogLevel)config.LogLevel;
            return;
        }
        Log.Level = (LogLevel)config.LogLevel;
        if (config.DebugMode && !Log.HasDebugWriter)
            Log.SetDebugWriter(new RotatingLogFile(config.LogDir, "engine-debug"));
        else if (!config.DebugMode && Log.HasDebugWriter)
            Log.SetDebugWriter(null);
    }
}

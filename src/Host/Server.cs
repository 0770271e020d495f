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
    public static int Run(EngineConfig config, string? dumpDirectory, TextWriter stdout, TextWriter stderr)
    {
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
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.Cancel(); });
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
            if (config.PidFile != null)
                File.WriteAllText(config.PidFile, Environment.ProcessId + "\n");
            stdout.WriteLine($"engine {Cli.Version}: http://0.0.0.0:{frontend.Port}/ (WHIP POST /whip/{{stream}}, WHEP POST /whep/{{stream}}, WebSocket /ws{(frontend.WebSocketPort is int w ? $" and :{w}" : "")}), media udp {loop.LocalEndPoint}, DTLS {certificate.Fingerprint}{(turnHost != null ? $", TURN {string.Join(", ", turnHost.Listening)}" : "")}");
            stdout.Flush();
            Log.Notice($"started: http {frontend.Port}, media {loop.LocalEndPoint}");
            try
            {
                Task.Delay(Timeout.Infinite, stop.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }
            Log.Notice("stopping");
            frontend.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (config.PidFile != null)
                File.Delete(config.PidFile);
        }
        Log.Flush(TimeSpan.FromSeconds(2));
        return 0;
    }

    private static IPEndPoint MediaBind(EngineConfig config)
    {
        if (config.IceLocalIp != null)
            return new IPEndPoint(config.IceLocalIp, config.WebRtcPort);
        return Socket.OSSupportsIPv6 ? new IPEndPoint(IPAddress.IPv6Any, config.WebRtcPort) : new IPEndPoint(IPAddress.Any, config.WebRtcPort);
    }

    private static void ConfigureLog(EngineConfig config)
    {
        Log.Level = config.DebugMode ? LogLevel.Debug : (LogLevel)config.LogLevel;
        if (config.LogDir != null)
        {
            Directory.CreateDirectory(config.LogDir);
            var file = new StreamWriter(Path.Combine(config.LogDir, "engine.log"), append: true) { AutoFlush = false };
            Log.SetWriter(file);
        }
    }
}

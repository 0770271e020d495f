using System.Reflection;
using Engine.Host.Config;

namespace Engine.Host;

/// <summary>Command-line entry: parses options and dispatches. Kept apart from Program for tests.</summary>
public static class Cli
{
    public static string Version =>
        typeof(Cli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? "0.0.0";

    public const string HelpText =
        """
        engine - WebRTC media engine and server (ICE-lite, DTLS-SRTP, RTP/RTCP, WHIP/WHEP, RTMP gateway)

        Usage: engine [options]

        Options:
          --config PATH   read the INI config (legacy gateway format); without it the embedded defaults are used
          --print-config  print the embedded default config and exit
          --check-config  read and check the config, then exit
          --dump-dir DIR  write each published stream's video to DIR/{stream}.h264 (or .ivf for VP8/VP9)
          --version       print the version and exit
          --help, -h      show this help and exit
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? configPath = null, dumpDir = null;
        bool checkOnly = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--version":
                    stdout.WriteLine($"engine {Version}");
                    return 0;
                case "--help":
                case "-h":
                    stdout.WriteLine(HelpText);
                    return 0;
                case "--print-config":
                    stdout.Write(DefaultConfig.Text);
                    stdout.Write(TurnConfig.CommentedExample);
                    return 0;
                case "--check-config":
                    checkOnly = true;
                    break;
                case "--dump-dir":
                    if (i + 1 >= args.Length)
                    {
                        stderr.WriteLine("error: --dump-dir needs a folder");
                        return 2;
                    }
                    dumpDir = args[++i];
                    break;
                case "--config":
                    if (i + 1 >= args.Length)
                    {
                        stderr.WriteLine("error: --config needs a path");
                        return 2;
                    }
                    configPath = args[++i];
                    break;
                default:
                    stderr.WriteLine($"error: unknown option '{args[i]}' (see --help)");
                    return 2;
            }
        }
        EngineConfig config;
        try
        {
            if (configPath != null && !File.Exists(configPath))
            {
                stderr.WriteLine($"error: config file '{configPath}' not found");
                return 2;
            }
            config = configPath == null ? EngineConfig.Default() : EngineConfig.Parse(File.ReadAllText(configPath));
        }
        catch (ConfigException e)
        {
            stderr.WriteLine("error: " + e.Message);
            return 2;
        }
        foreach (var warning in config.Warnings)
            stderr.WriteLine("warning: " + warning);
        if (checkOnly)
        {
            stdout.WriteLine($"config {(configPath ?? "embedded defaults")}: ok (HTTP port {config.HttpPort}, media port {config.WebRtcPort}{(config.Turn is { } t ? $", TURN {t.ListeningPort}/{t.TlsListeningPort}" : "")})");
            return 0;
        }
        return Server.Run(config, dumpDir, stdout, stderr, configPath);
    }
}

using Engine.Host.Config;
using Engine.Host.Logging;

namespace Engine.Host;

/// <summary>
/// The running server's config and its state between start and exit: the reload (SIGHUP,
/// <c>GET /reload</c>) and the stopping flag the control plane reads. Thread-safe; reloads are
/// serialized. Nothing here touches sessions or the media thread.
/// </summary>
public sealed class ServerLifecycle
{
    private readonly Lock _reload = new();
    private readonly Action<EngineConfig> _applyLive;
    private volatile bool _stopping;

    /// <param name="running">The config every component holds: live keys are copied into it.</param>
    /// <param name="configPath">The file the server started with; null: the embedded defaults (nothing to re-read).</param>
    /// <param name="applyLive">What the server itself does with live keys after they are copied (log level, DEBUGMODE, RTMP_SEND_MS).</param>
    public ServerLifecycle(EngineConfig running, string? configPath, Action<EngineConfig> applyLive)
    {
        Config = running;
        ConfigPath = configPath;
        _applyLive = applyLive;
    }

    public EngineConfig Config { get; }
    public string? ConfigPath { get; }
    public bool IsStopping => _stopping;

    /// <summary>
    /// Raised after a reload copied its live keys, with the running config, on the reloading
    /// thread (never the media thread). A subscriber that throws is logged; the others still run.
    /// </summary>
    public event Action<EngineConfig>? ConfigReloaded;

    public void MarkStopping() => _stopping = true;

    /// <summary>Re-reads <see cref="ConfigPath"/>; a file that does not parse or validate keeps the running config.</summary>
    public ReloadResult Reload(string source)
    {
        lock (_reload)
        {
            if (ConfigPath == null)
                return Fail(source, "started without --config: there is no file to re-read");
            EngineConfig fresh;
            try
            {
                fresh = EngineConfig.Parse(File.ReadAllText(ConfigPath));
            }
            catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
            {
                return Fail(source, $"{ConfigPath}: {e.Message}; the running config is kept");
            }
            foreach (var warning in fresh.Warnings)
                Log.Warn($"reload ({source}): {warning}");
            var diff = ConfigReload.Apply(Config, fresh);
            if (diff.Live.Count > 0)
                _applyLive(Config);
            Log.Notice(diff.IsEmpty
                ? $"reload ({source}): {ConfigPath}: nothing changed"
                : $"reload ({source}): {ConfigPath}: " + (diff.Live.Count > 0 ? $"applied [{string.Join(", ", diff.Live)}]" : "nothing applied")
                    + (diff.Restart.Count > 0 ? $"; a restart is needed for [{string.Join(", ", diff.Restart)}]" : ""));
            foreach (var handler in ConfigReloaded?.GetInvocationList() ?? [])
            {
                try
                {
                    ((Action<EngineConfig>)handler)(Config);
                }
                catch (Exception e)
                {
                    Log.Error($"reload ({source}): a ConfigReloaded subscriber failed: {e.Message}");
                }
            }
            return new ReloadResult(true, null, diff);
        }
    }

    private static ReloadResult Fail(string source, string error)
    {
        Log.Error($"reload ({source}): {error}");
        return new ReloadResult(false, error, null);
    }
}

using System.Diagnostics;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Headless Firefox ESR on one page, with its fake camera and microphone, in a fresh profile. It has
/// no DevTools protocol to read the page with, so tests judge by what the engine reports.
/// </summary>
internal sealed class FirefoxPage : IDisposable
{
    private readonly string _profile = Path.Combine(Path.GetTempPath(), "engine-firefox-" + Guid.NewGuid().ToString("n")[..8]);
    private readonly Process _process;

    /// <param name="extraPrefs">More user.js lines (user_pref(...);), e.g. to let a player start without a gesture.</param>
    public FirefoxPage(string url, NetNamespace? inside = null, string extraPrefs = "")
    {
        Directory.CreateDirectory(_profile);
        File.WriteAllText(Path.Combine(_profile, "user.js"), """
            user_pref("media.navigator.streams.fake", true);
            user_pref("media.navigator.permission.disabled", true);
            user_pref("media.devices.insecure.enabled", true);
            user_pref("media.getusermedia.insecure.enabled", true);
            user_pref("media.peerconnection.ice.obfuscate_host_addresses", false);
            user_pref("browser.shell.checkDefaultBrowser", false);
            user_pref("datareporting.policy.dataSubmissionEnabled", false);
            user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
            user_pref("app.update.enabled", false);
            user_pref("network.proxy.type", 0);
            user_pref("browser.aboutwelcome.enabled", false);
            """ + "\n" + extraPrefs);
        string firefox = Tools.Require("firefox-esr");
        string args = $"--headless --no-remote --profile {_profile} \"{url}\"";
        var (file, arguments) = inside?.Exec(firefox, args) ?? (firefox, args);
        _process = Tools.StartDrained(file, arguments);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { }
    }
}

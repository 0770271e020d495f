using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// src/Host/Packaging from the published AOT binary: the systemd unit through systemd-analyze, the
/// .deb and the tar installed into temporary roots (dpkg --root, install.sh --root; nothing on this
/// machine changes) and started as the unit says, the Kubernetes manifest and the Dockerfile
/// checked against the default config.
/// </summary>
public sealed class PackagingTests : IClassFixture<PackagingTests.Packages>
{
    private static readonly string PackagingDir = Path.Combine(Tools.RepoRoot, "src", "Host", "Packaging");
    private readonly Packages _packages;

    public PackagingTests(Packages packages) => _packages = packages;

    /// <summary>The .deb and the tar, built once for the class into a temporary folder.</summary>
    public sealed class Packages : IDisposable
    {
        public readonly string Directory = Path.Combine(Path.GetTempPath(), "engine-pkg-" + Guid.NewGuid().ToString("n")[..8]);
        public readonly string Version;
        public readonly string Deb;
        public readonly string Tar;

        public Packages()
        {
            System.IO.Directory.CreateDirectory(Directory);
            Version = Run(Tools.EngineBinary, "--version").Stdout.Trim().Split(' ')[1];
            Deb = Run("/bin/bash", Path.Combine(PackagingDir, "build-deb.sh"), Tools.EngineBinary, Path.Combine(Directory, "out")).Stdout.Trim();
            Tar = Run("/bin/bash", Path.Combine(PackagingDir, "build-tar.sh"), Tools.EngineBinary, Path.Combine(Directory, "out")).Stdout.Trim();
        }

        public void Dispose()
        {
            if (Environment.GetEnvironmentVariable("ENGINE_E2E_KEEP") == null)
                try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public void Unit_PassesSystemdAnalyzeVerifyAndIsHardened()
    {
        string unit = File.ReadAllText(Path.Combine(PackagingDir, "engine.service"));
        var service = UnitSection(unit, "Service");
        Assert.Equal("engine", service["User"]);
        Assert.Equal("yes", service["NoNewPrivileges"]);
        Assert.Equal("strict", service["ProtectSystem"]);
        Assert.Equal("engine", service["StateDirectory"]);
        Assert.Equal("engine", service["LogsDirectory"]);
        Assert.True(int.Parse(service["LimitNOFILE"]) >= 65536, "LimitNOFILE " + service["LimitNOFILE"]);
        Assert.Equal("on-failure", service["Restart"]);
        Assert.DoesNotContain("ReadWritePaths", unit);
        // The default ports need no capability, so the unit grants none.
        var defaults = Ini(Run(Tools.EngineBinary, "--print-config").Stdout);
        Assert.True(int.Parse(defaults["BASE.PORT"]) >= 1024 && int.Parse(defaults["WEBRTC.WEBRTCPORTSTART"]) >= 1024);
        Assert.Equal("", service["AmbientCapabilities"]);
        Assert.Equal("", service["CapabilityBoundingSet"]);
        Assert.StartsWith("/usr/bin/engine --config /etc/engine/mediaserver.config", service["ExecStart"]);

        // verify checks that ExecStart's binary exists: a copy points it at the published one.
        string dir = Path.Combine(_packages.Directory, "verify");
        Directory.CreateDirectory(dir);
        string copy = Path.Combine(dir, "engine.service");
        File.WriteAllText(copy, unit.Replace("ExecStart=/usr/bin/engine ", $"ExecStart={Tools.EngineBinary} "));
        var verify = Run(Tools.Require("systemd-analyze"), "verify", copy);
        // systemd says "ignoring" and exits 0 for an unknown key or a bad value: any message is an error.
        Assert.True(verify.Code == 0 && verify.Stdout.Trim() == "" && verify.Stderr.Trim() == "",
            $"systemd-analyze verify: {verify.Code}\n{verify.Stdout}{verify.Stderr}");

        // The same check sees a misspelt key (it would otherwise pass anything).
        string bad = Path.Combine(dir, "bad.service");
        File.WriteAllText(bad, File.ReadAllText(copy).Replace("ProtectSystem=strict", "ProtectSystm=strict"));
        var badVerify = Run(Tools.Require("systemd-analyze"), ["verify", bad], allowFailure: true);
        Assert.Contains("ProtectSystm", badVerify.Stderr + badVerify.Stdout);

        // systemd's own score of the sandbox (0.0 is the most confined, 10.0 none); the threshold is in
        // tenths (20: 2.0), above it the exit code is 1.
        var security = Run(Tools.Require("systemd-analyze"), ["security", "--offline=yes", "--threshold=20", "--no-pager", copy], allowFailure: true);
        Assert.True(security.Code == 0, "exposure above 2.0:\n" + security.Stdout + security.Stderr);
        Assert.Matches(@"Overall exposure level for engine\.service: [01]\.\d", security.Stdout);
    }

    [Fact]
    public void Deb_HoldsTheBinaryTheUnitAndTheConffile_AndDependsOnWhatItLoads()
    {
        Assert.Equal($"engine_{_packages.Version}_amd64.deb", Path.GetFileName(_packages.Deb));
        string info = Run(Tools.Require("dpkg-deb"), "--info", _packages.Deb).Stdout;
        Assert.Contains("Package: engine", info);
        Assert.Contains($"Version: {_packages.Version}", info);
        Assert.Equal("/etc/engine/mediaserver.config", Run(Tools.Require("dpkg-deb"), "--info", _packages.Deb, "conffiles").Stdout.Trim());
        string contents = Run(Tools.Require("dpkg-deb"), "--contents", _packages.Deb).Stdout;
        Assert.Matches(@"-rwxr-xr-x root/root +\d+ .* \./usr/bin/engine\n", contents);
        Assert.Matches(@"-rw-r--r-- root/root +\d+ .* \./etc/engine/mediaserver\.config\n", contents);
        Assert.Matches(@"-rw-r--r-- root/root +\d+ .* \./lib/systemd/system/engine\.service\n", contents);
        Assert.Matches(@"drwxr-xr-x root/root +0 .* \./\n", contents);

        string extracted = Path.Combine(_packages.Directory, "deb-x");
        Run(Tools.Require("dpkg-deb"), "-x", _packages.Deb, extracted);
        Assert.Equal(File.ReadAllBytes(Tools.EngineBinary), File.ReadAllBytes(Path.Combine(extracted, "usr/bin/engine")));
        Assert.Equal(File.ReadAllText(Path.Combine(PackagingDir, "engine.service")), File.ReadAllText(Path.Combine(extracted, "lib/systemd/system/engine.service")));
        // The conffile is the binary's defaults plus the packaged RECORDDIR, and the binary accepts it.
        string conffile = Path.Combine(extracted, "etc/engine/mediaserver.config");
        var packaged = Ini(File.ReadAllText(conffile));
        foreach (var (key, value) in Ini(Run(Tools.EngineBinary, "--print-config").Stdout))
            Assert.Equal(value, packaged.GetValueOrDefault(key));
        Assert.Equal("/var/lib/engine/recordings", packaged["WEBRTC.RECORDDIR"]);
        Assert.Contains("ok (HTTP port 9880, media port 10000)", Run(Tools.EngineBinary, "--check-config", "--config", conffile).Stdout);

        // Every library the binary links or src/ loads by name, as installed here, is in Depends.
        var depends = Regex.Match(info, @"Depends: (.*)").Groups[1].Value.Split(',')
            .Select(d => d.Trim().Split(' ')[0]).ToHashSet();
        var sonames = new SortedSet<string>(StringComparer.Ordinal) { "libssl.so.3" }; // .NET's SslStream (TURN TLS, rtmps)
        foreach (Match m in Regex.Matches(Run(Tools.Require("readelf"), "-d", Tools.EngineBinary).Stdout, @"\(NEEDED\)\s+Shared library: \[(.+?)\]"))
            sonames.Add(m.Groups[1].Value);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Tools.RepoRoot, "src"), "*.cs", SearchOption.AllDirectories))
            foreach (Match m in Regex.Matches(File.ReadAllText(file), "\"(lib[A-Za-z0-9_+-]+\\.so\\.[0-9.]+)\""))
                sonames.Add(m.Groups[1].Value);
        Assert.Contains("libavcodec.so.59", sonames);
        Assert.Contains("libcrypto.so.3", sonames);
        int found = 0;
        foreach (var soname in sonames)
        {
            var owner = Run(Tools.Require("dpkg"), ["-S", $"*/x86_64-linux-gnu/{soname}"], allowFailure: true);
            if (owner.Code != 0)
                continue; // a fallback name this machine does not have (libcrypto.so.1.1)
            string package = owner.Stdout.Split(':')[0];
            Assert.True(depends.Contains(package), $"{soname} is in {package}, which Depends ({string.Join(", ", depends)}) lacks");
            found++;
        }
        Assert.True(found >= 8, $"only {found} of {string.Join(", ", sonames)} found installed");

        // Depends is satisfiable from Debian 12's archive as this machine sees it (a simulation: nothing is installed).
        var simulate = Run(Tools.Require("apt-get"), ["-s", "install", _packages.Deb], allowFailure: true, timeoutMs: 120_000);
        Assert.True(simulate.Code == 0, "apt-get -s install: " + simulate.Stdout + simulate.Stderr);
        Assert.Contains($"Inst engine ({_packages.Version}", simulate.Stdout);
    }

    [Fact]
    public async Task Deb_InstalledIntoARoot_RunsAsTheUnitSaysAndServes_AndPurges()
    {
        string root = Path.Combine(_packages.Directory, "deb-root");
        foreach (var d in new[] { "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc" })
            Directory.CreateDirectory(Path.Combine(root, d));
        File.WriteAllText(Path.Combine(root, "var/lib/dpkg/status"), "");
        File.WriteAllText(Path.Combine(root, "var/lib/dpkg/available"), "");
        File.WriteAllText(Path.Combine(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
        File.WriteAllText(Path.Combine(root, "etc/group"), "root:x:0:\n");
        // Chrootless: the maintainer scripts run here with DPKG_ROOT set (the root has no shell of
        // its own). The root's dpkg database is empty, so its Depends are not met there.
        string[] dpkg = ["--root=" + root, "--force-script-chrootless", "--force-depends", "--force-not-root"];
        Run(Tools.Require("dpkg"), [.. dpkg, "-i", _packages.Deb]);

        Assert.True(File.Exists(Path.Combine(root, "usr/bin/engine")));
        var (uid, gid) = User(root, "engine");
        Assert.True(uid is > 0 and < 1000, $"engine's uid {uid} is not a system uid");
        foreach (var d in new[] { "var/lib/engine", "var/lib/engine/recordings", "var/log/engine" })
            AssertOwned(Path.Combine(root, d), uid, gid);
        var wants = new FileInfo(Path.Combine(root, "etc/systemd/system/multi-user.target.wants/engine.service"));
        Assert.Equal("/lib/systemd/system/engine.service", wants.LinkTarget);
        string status = File.ReadAllText(Path.Combine(root, "var/lib/dpkg/status"));
        Assert.Matches(@"Conffiles:\n /etc/engine/mediaserver\.config [0-9a-f]{32}\n", status);

        using (var service = ServiceRun.FromUnit(root, Path.Combine(root, "lib/systemd/system/engine.service"), Path.Combine(_packages.Directory, "deb-run")))
        {
            await service.AssertServesAsync();
            Assert.Equal(uid, service.Uid);
            Assert.Contains("NoNewPrivs:\t1", File.ReadAllText($"/proc/{service.Pid}/status"));
            Assert.Matches($@"Max open files +{service.NoFile} +{service.NoFile} ", File.ReadAllText($"/proc/{service.Pid}/limits"));
            Assert.Equal(Path.Combine(root, "var/lib/engine"), new FileInfo($"/proc/{service.Pid}/cwd").LinkTarget);
            // It runs under ProtectSystem=strict: "/" read-only, its state folder writable.
            var mounts = File.ReadAllLines($"/proc/{service.Pid}/mountinfo").Select(l => l.Split(' ')).ToLookup(f => f[4], f => f[5]);
            Assert.StartsWith("ro,", mounts["/"].Last() + ",");
            Assert.StartsWith("rw,", mounts[Path.Combine(root, "var/lib/engine")].Last() + ",");
            Assert.StartsWith("rw,", mounts[Path.Combine(root, "var/log/engine")].Last() + ",");
        }

        // A conffile: the admin's edit survives reinstalling the package.
        string config = Path.Combine(root, "etc/engine/mediaserver.config");
        File.AppendAllText(config, "# edited by the admin\n");
        Run(Tools.Require("dpkg"), [.. dpkg, "-i", _packages.Deb]);
        Assert.EndsWith("# edited by the admin\n", File.ReadAllText(config));

        Run(Tools.Require("dpkg"), [.. dpkg, "--purge", "engine"]);
        Assert.False(File.Exists(config));
        Assert.False(File.Exists(Path.Combine(root, "usr/bin/engine")));
        Assert.False(Directory.Exists(Path.Combine(root, "var/lib/engine")));
        Assert.False(File.Exists(wants.FullName));
    }

    /// <summary>
    /// The plain `dpkg -i` a user runs, on this machine's own packages (Depends checked, nothing
    /// forced, no DPKG_ROOT), but inside an overlay of "/" in a private mount namespace: every
    /// write lands in a temporary upper folder, so this machine's packages and users stay as they are.
    /// </summary>
    [Fact]
    public void Deb_RealDpkgInstallAndPurge_InAnOverlayOfThisMachine()
    {
        string overlay = Path.Combine("/dev/shm", "engine-pkg-ov-" + Guid.NewGuid().ToString("n")[..8]);
        try
        {
            foreach (var d in new[] { "upper", "work", "merged" })
                Directory.CreateDirectory(Path.Combine(overlay, d));
            const string Script =
                """
                set -e
                o=$1 deb=$2
                mount -t overlay overlay -o "lowerdir=/,upperdir=$o/upper,workdir=$o/work" "$o/merged"
                mount -t proc proc "$o/merged/proc"
                chroot "$o/merged" /bin/sh -e -c '
                  dpkg -i "$1"
                  echo "user: $(getent passwd engine)"
                  echo "state: $(stat -c "%U %a" /var/lib/engine /var/log/engine | tr "\n" " ")"
                  echo "wants: $(readlink /etc/systemd/system/multi-user.target.wants/engine.service)"
                  echo "status: $(dpkg-query -W -f "\${Status} \${Version}" engine)"
                  dpkg --purge engine
                  [ ! -e /var/lib/engine ] && [ ! -e /etc/engine/mediaserver.config ] && echo "purged"
                ' chroot "$deb"
                """;
            var run = Run(Tools.Require("unshare"), ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", Script, "overlay", overlay, _packages.Deb], allowFailure: true, timeoutMs: 180_000);
            string output = run.Stdout + run.Stderr;
            Assert.True(run.Code == 0, "dpkg in the overlay: " + output);
            Assert.DoesNotContain("dependency problems", output);
            Assert.Matches(@"user: engine:x:\d+:\d+:engine media server:/var/lib/engine:/usr/sbin/nologin", run.Stdout);
            Assert.Contains("state: engine 750 engine 750", run.Stdout);
            Assert.Contains("wants: /lib/systemd/system/engine.service", run.Stdout);
            Assert.Contains($"status: install ok installed {_packages.Version}", run.Stdout);
            Assert.Contains("purged", run.Stdout);
            Assert.NotEqual(0, Run(Tools.Require("dpkg-query"), ["-W", "engine"], allowFailure: true).Code); // not on this machine
        }
        finally
        {
            try { Directory.Delete(overlay, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [Fact]
    public async Task Tar_InstallScriptIntoARoot_RunsAsTheUnitSaysAndServes()
    {
        string name = $"engine-{_packages.Version}-linux-x64";
        Assert.Equal(name + ".tar.gz", Path.GetFileName(_packages.Tar));
        string listing = Run(Tools.Require("tar"), "-tzf", _packages.Tar).Stdout;
        foreach (var f in new[] { "engine", "mediaserver.config", "engine.service", "install.sh" })
            Assert.Contains($"{name}/{f}\n", listing);

        string extracted = Path.Combine(_packages.Directory, "tar-x");
        string root = Path.Combine(_packages.Directory, "tar-root");
        Directory.CreateDirectory(extracted);
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        File.WriteAllText(Path.Combine(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
        File.WriteAllText(Path.Combine(root, "etc/group"), "root:x:0:\n");
        Run(Tools.Require("tar"), "-xzf", _packages.Tar, "-C", extracted);
        string install = Path.Combine(extracted, name, "install.sh");
        Run("/bin/sh", install, "--root", root, "--prefix", "/opt/engine");

        Assert.Equal(File.ReadAllBytes(Tools.EngineBinary), File.ReadAllBytes(Path.Combine(root, "opt/engine/bin/engine")));
        string unitPath = Path.Combine(root, "etc/systemd/system/engine.service");
        Assert.StartsWith("/opt/engine/bin/engine --config /etc/engine/mediaserver.config", UnitSection(File.ReadAllText(unitPath), "Service")["ExecStart"]);
        var (uid, gid) = User(root, "engine");
        foreach (var d in new[] { "var/lib/engine", "var/log/engine" })
            AssertOwned(Path.Combine(root, d), uid, gid);

        using (var service = ServiceRun.FromUnit(root, unitPath, Path.Combine(_packages.Directory, "tar-run")))
        {
            await service.AssertServesAsync();
            Assert.Equal(uid, service.Uid);
        }

        // Installing again keeps an edited config and puts the new default beside it.
        string config = Path.Combine(root, "etc/engine/mediaserver.config");
        File.AppendAllText(config, "# edited by the admin\n");
        Assert.Contains("kept", Run("/bin/sh", install, "--root", root, "--prefix", "/opt/engine").Stdout);
        Assert.EndsWith("# edited by the admin\n", File.ReadAllText(config));
        Assert.Equal(File.ReadAllText(Path.Combine(extracted, name, "mediaserver.config")), File.ReadAllText(config + ".new"));
        Assert.Equal(uid, User(root, "engine").Uid);
    }

    [Fact]
    public async Task Kubernetes_ManifestParses_AgreesWithTheConfig_AndItsProbeRouteServes()
    {
        string manifest = Path.Combine(PackagingDir, "k8s", "engine.yaml");
        var json = Run(Tools.Require("python3"), "-c",
            "import sys, yaml, json; json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)", manifest).Stdout;
        var docs = JsonDocument.Parse(json).RootElement.EnumerateArray().ToDictionary(d => d.GetProperty("kind").GetString()!);
        Assert.Equal(new[] { "ConfigMap", "Deployment", "Service" }, docs.Keys.Order().ToArray());

        string configText = docs["ConfigMap"].GetProperty("data").GetProperty("mediaserver.config").GetString()!;
        var config = Ini(configText);
        foreach (var (key, value) in Ini(Run(Tools.EngineBinary, "--print-config").Stdout))
            Assert.Equal(value, config.GetValueOrDefault(key)); // tracks the defaults
        string configFile = Path.Combine(_packages.Directory, "k8s.config");
        File.WriteAllText(configFile, configText);
        Run(Tools.EngineBinary, "--check-config", "--config", configFile);
        int http = int.Parse(config["BASE.PORT"]), media = int.Parse(config["WEBRTC.WEBRTCPORTSTART"]);

        var pod = docs["Deployment"].GetProperty("spec").GetProperty("template").GetProperty("spec");
        var container = pod.GetProperty("containers")[0];
        var ports = container.GetProperty("ports").EnumerateArray().ToDictionary(
            p => p.GetProperty("name").GetString()!, p => (p.GetProperty("containerPort").GetInt32(), p.GetProperty("protocol").GetString()));
        Assert.Equal((http, "TCP"), ports["http"]);
        Assert.Equal((media, "UDP"), ports["media"]);
        var servicePorts = docs["Service"].GetProperty("spec").GetProperty("ports").EnumerateArray().ToDictionary(
            p => p.GetProperty("name").GetString()!, p => (p.GetProperty("port").GetInt32(), p.GetProperty("targetPort").GetString(), p.GetProperty("protocol").GetString()));
        Assert.Equal((http, "http", "TCP"), servicePorts["http"]);
        Assert.Equal((media, "media", "UDP"), servicePorts["media"]); // same port: the SDP answer names it
        Assert.Equal(
            docs["Deployment"].GetProperty("spec").GetProperty("selector").GetProperty("matchLabels").GetRawText(),
            docs["Service"].GetProperty("spec").GetProperty("selector").GetRawText());
        Assert.Equal("--config /etc/engine/mediaserver.config", string.Join(' ', container.GetProperty("args").EnumerateArray().Select(a => a.GetString())));
        var mount = container.GetProperty("volumeMounts").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "config");
        Assert.Equal("/etc/engine", mount.GetProperty("mountPath").GetString());
        Assert.True(container.GetProperty("resources").GetProperty("requests").TryGetProperty("memory", out _));
        Assert.True(container.GetProperty("resources").GetProperty("limits").TryGetProperty("memory", out _));
        Assert.Equal(DockerUser(), pod.GetProperty("securityContext").GetProperty("runAsUser").GetInt32());

        // Both probes ask a route the binary serves: started on the ConfigMap's config (ports moved).
        var probes = new[] { "readinessProbe", "livenessProbe" }.Select(p => container.GetProperty(p).GetProperty("httpGet")).ToList();
        foreach (var probe in probes)
            Assert.Equal("http", probe.GetProperty("port").GetString());
        using (var engine = ServiceRun.Direct(Tools.EngineBinary, configText, Path.Combine(_packages.Directory, "k8s-run")))
            foreach (var probe in probes)
                await engine.AssertServesAsync(probe.GetProperty("path").GetString()!);

        // kubectl's own decoder, offline (--local never asks a server), where kubectl is installed.
        if (File.Exists("/usr/bin/kubectl"))
            Assert.Equal("configmap/engine-config\ndeployment.apps/engine\nservice/engine",
                Run("/usr/bin/kubectl", "label", "--local", "-f", manifest, "checked=yes", "-o", "name").Stdout.Trim());
    }

    [Fact]
    public void Dockerfile_IsDebian12WithTheDebAndTheConfigsPorts()
    {
        string dockerfile = Path.Combine(PackagingDir, "Dockerfile");
        var instructions = Instructions(File.ReadAllText(dockerfile));
        Assert.Equal(("FROM", "debian:12"), instructions[0]);
        var defaults = Ini(Run(Tools.EngineBinary, "--print-config").Stdout);
        var exposed = instructions.Where(i => i.Op == "EXPOSE").SelectMany(i => i.Args.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet();
        Assert.Equal(new HashSet<string> { defaults["BASE.PORT"] + "/tcp", defaults["WEBRTC.WEBRTCPORTSTART"] + "/udp" }, exposed);
        // It installs the .deb build-deb.sh writes (so its Depends bring the runtime libraries).
        var copy = instructions.Single(i => i.Op == "COPY").Args.Split(' ')[0];
        Assert.Matches("^" + Regex.Escape(copy).Replace(@"\*", ".*") + "$", Path.GetFileName(_packages.Deb));
        Assert.Contains(instructions, i => i.Op == "RUN" && i.Args.Contains("apt-get install") && i.Args.Contains("/tmp/" + copy));
        Assert.Equal("[\"/usr/bin/engine\"]", instructions.Single(i => i.Op == "ENTRYPOINT").Args);
        Assert.Equal("[\"--config\", \"/etc/engine/mediaserver.config\"]", instructions.Single(i => i.Op == "CMD").Args);
        Assert.True(DockerUser() > 0);

        // A real build only where a daemon runs and has debian:12 (it is not the case on the test machines so far).
        if (Run("/bin/sh", ["-c", "docker info && docker image inspect debian:12"], allowFailure: true).Code == 0)
        {
            string tag = "engine-packaging-test:" + _packages.Version;
            Run("docker", ["build", "-f", dockerfile, "-t", tag, Path.GetDirectoryName(_packages.Deb)!], allowFailure: false, timeoutMs: 600_000);
            try
            {
                Assert.Equal($"engine {_packages.Version}", Run("docker", "run", "--rm", tag, "--version").Stdout.Trim());
                Assert.Contains("ok (HTTP port", Run("docker", "run", "--rm", tag, "--check-config", "--config", "/etc/engine/mediaserver.config").Stdout);
            }
            finally
            {
                Run("docker", ["rmi", tag], allowFailure: true);
            }
        }
    }

    private static int DockerUser()
    {
        var user = Instructions(File.ReadAllText(Path.Combine(PackagingDir, "Dockerfile"))).Single(i => i.Op == "USER").Args;
        return int.Parse(user.Split(':')[0]); // numeric, so Kubernetes' runAsNonRoot can check it
    }

    /// <summary>The engine started the way systemd would start the unit: its user, limits, folder and command line.</summary>
    private sealed class ServiceRun : IDisposable
    {
        private readonly Process _process;
        private readonly System.Text.StringBuilder _output = new();
        private readonly HttpClient _http;
        public readonly int Uid;
        public readonly int NoFile;

        private ServiceRun(string file, IEnumerable<string> args, string workingDirectory, int httpPort, int uid, int noFile)
        {
            Uid = uid;
            NoFile = noFile;
            var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args)
                psi.ArgumentList.Add(a);
            _process = Process.Start(psi)!;
            _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
            _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(5) };
        }

        public int Pid => _process.Id;

        /// <summary>
        /// From the unit in <paramref name="root"/>: ExecStart's binary and config under the root
        /// (the config copied into <paramref name="runDir"/> with free loopback ports and the
        /// root's RECORDDIR), User= from the root's passwd (setpriv), NoNewPrivileges= (setpriv),
        /// LimitNOFILE= (prlimit; capped at this process's hard limit), WorkingDirectory=, and
        /// ProtectSystem=strict with StateDirectory= and LogsDirectory= the only writable folders.
        /// </summary>
        public static ServiceRun FromUnit(string root, string unitPath, string runDir)
        {
            var service = UnitSection(File.ReadAllText(unitPath), "Service");
            var exec = service["ExecStart"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int configAt = Array.IndexOf(exec, "--config");
            Assert.True(configAt > 0 && configAt + 2 == exec.Length, "ExecStart: " + service["ExecStart"]);
            var (uid, gid) = User(root, service["User"]);
            Assert.Equal("engine", service["Group"]);
            int hard = int.Parse(Run("/bin/sh", "-c", "ulimit -Hn").Stdout.Trim());
            int noFile = Math.Min(int.Parse(service["LimitNOFILE"]), hard);
            var (config, httpPort) = MovedConfig(File.ReadAllText(root + exec[configAt + 1]), root, runDir);
            var args = new List<string> { Tools.Require("prlimit"), $"--nofile={noFile}:{noFile}", Tools.Require("setpriv"), $"--reuid={uid}", $"--regid={gid}", "--clear-groups" };
            if (service["NoNewPrivileges"] == "yes")
                args.Add("--no-new-privs");
            args.AddRange(["--", root + exec[0], .. exec[1..configAt], "--config", config]);
            Assert.Equal("strict", service["ProtectSystem"]);
            // ProtectSystem=strict: every mount read-only but /proc, /sys, /dev and the two folders
            // (a private mount namespace: the machine's mounts do not change). /tmp too, which is
            // stricter than PrivateTmp=.
            string state = root + "/var/lib/" + service["StateDirectory"], logs = root + "/var/log/" + service["LogsDirectory"];
            args.InsertRange(0, ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", StrictScript, "strict", root, state, logs]);
            return new ServiceRun(Tools.Require("unshare"), args, root + service["WorkingDirectory"], httpPort, uid, noFile);
        }

        private const string StrictScript =
            """
            set -e
            root=$1 state=$2 logs=$3
            shift 3
            mount --bind "$state" "$state"
            mount --bind "$logs" "$logs"
            awk '{ print $5 }' /proc/self/mountinfo | grep -v -E '^/(proc|sys|dev)(/|$)' | grep -v -x -F -e "$state" -e "$logs" |
              while read -r m; do mount -o remount,bind,ro "$m" 2>/dev/null || true; done
            if touch "$root/etc/.strict-probe" 2>/dev/null; then echo "strict: $root/etc is still writable" >&2; exit 97; fi
            touch "$state/.strict-probe" && rm "$state/.strict-probe"
            exec "$@"
            """;

        public static ServiceRun Direct(string binary, string configText, string runDir)
        {
            var (config, httpPort) = MovedConfig(configText, runDir, runDir);
            return new ServiceRun(binary, ["--config", config], runDir, httpPort, 0, 0);
        }

        /// <summary>The config with free loopback ports, bound to 127.0.0.1, RECORDDIR under <paramref name="root"/>.</summary>
        private static (string Path, int HttpPort) MovedConfig(string text, string root, string runDir)
        {
            Directory.CreateDirectory(runDir);
            int http = Tools.FreeTcpPort(), media = Tools.FreeUdpPort();
            var lines = text.Split('\n').Select(line => line switch
            {
                _ when line.StartsWith("PORT=") => $"PORT={http}",
                _ when line.StartsWith("WEBRTCPORTSTART=") => $"WEBRTCPORTSTART={media}",
                _ when line.StartsWith("RECORDDIR=/") => "RECORDDIR=" + root + line["RECORDDIR=".Length..],
                "[WEBRTC]" => "[WEBRTC]\nICELOCALIP=127.0.0.1",
                _ => line,
            });
            string path = Path.Combine(runDir, "mediaserver.config");
            File.WriteAllText(path, string.Join('\n', lines));
            return (path, http);
        }

        /// <summary>Polls <paramref name="route"/> (bounded, 15 s) until it answers 200 with JSON.</summary>
        public async Task AssertServesAsync(string route = "/api/streams")
        {
            for (int i = 0; i < 150; i++)
            {
                if (_process.HasExited)
                    Assert.Fail($"engine exited with {_process.ExitCode}: {Output}");
                try
                {
                    using var response = await _http.GetAsync(route);
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    JsonDocument.Parse(await response.Content.ReadAsStringAsync()).Dispose();
                    return;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    await Task.Delay(100);
                }
            }
            Assert.Fail($"engine did not answer {route}: {Output}");
        }

        private string Output
        {
            get { lock (_output) return _output.ToString(); }
        }

        public void Dispose()
        {
            _http.Dispose();
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(5000);
                }
            }
            finally
            {
                _process.Dispose();
            }
        }
    }

    private static (int Uid, int Gid) User(string root, string name)
    {
        var line = File.ReadAllLines(Path.Combine(root, "etc/passwd")).SingleOrDefault(l => l.StartsWith(name + ":"));
        Assert.True(line != null, $"no user {name} in {root}/etc/passwd");
        var fields = line.Split(':');
        Assert.Equal("/var/lib/engine", fields[5]);
        Assert.Equal("/usr/sbin/nologin", fields[6]);
        return (int.Parse(fields[2]), int.Parse(fields[3]));
    }

    private static void AssertOwned(string dir, int uid, int gid)
    {
        Assert.True(Directory.Exists(dir), dir + " is missing");
        var stat = Run("/usr/bin/stat", "-c", "%u %g %a", dir).Stdout.Trim();
        Assert.Equal($"{uid} {gid} 750", stat);
    }

    /// <summary>One section of a systemd unit: key to value (the last one when a key repeats).</summary>
    private static Dictionary<string, string> UnitSection(string unit, string section)
    {
        var result = new Dictionary<string, string>();
        string? current = null;
        foreach (var raw in unit.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith('['))
                current = line.Trim('[', ']');
            else if (current == section && !line.StartsWith('#') && line.IndexOf('=') is int eq and > 0)
                result[line[..eq]] = line[(eq + 1)..];
        }
        return result;
    }

    /// <summary>The INI's settings as SECTION.KEY to value, comments skipped.</summary>
    private static Dictionary<string, string> Ini(string text)
    {
        var result = new Dictionary<string, string>();
        string section = "";
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith('['))
                section = line.Trim('[', ']');
            else if (!line.StartsWith('#') && line.IndexOf('=') is int eq and > 0)
                result[section + "." + line[..eq]] = line[(eq + 1)..];
        }
        return result;
    }

    /// <summary>A Dockerfile's instructions (continuation lines joined, comments dropped).</summary>
    private static List<(string Op, string Args)> Instructions(string dockerfile)
    {
        var joined = Regex.Replace(dockerfile, @"\\\n", " ");
        return joined.Split('\n').Select(l => l.Trim()).Where(l => l != "" && !l.StartsWith('#'))
            .Select(l => { int sp = l.IndexOf(' '); return (l[..sp].ToUpperInvariant(), Regex.Replace(l[(sp + 1)..].Trim(), @"\s+", " ")); })
            .ToList();
    }

    private static (int Code, string Stdout, string Stderr) Run(string file, params string[] args) => Run(file, args, allowFailure: false);

    /// <summary>Runs a tool (bounded) with an argument list; fails the test on a non-zero exit unless allowed.</summary>
    private static (int Code, string Stdout, string Stderr) Run(string file, string[] args, bool allowFailure, int timeoutMs = 120_000)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }
        p.WaitForExit();
        if (!allowFailure && p.ExitCode != 0)
            Assert.Fail($"{file} {string.Join(' ', args)} exited {p.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}

using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Engine.Host.Logging;
using Engine.Host.Sessions;
using Engine.Rtp.Media;

namespace Engine.Host.Media;

/// <summary>
/// The legacy RTP2RTMPSHELL mode: forwards the session's decrypted RTP unchanged to one local UDP
/// port per track and runs the configured script (usually ffmpeg) with the arguments SDP path,
/// RTMP URL, transcode flag ("1"/"0"), log path. The script's stdout/stderr are appended to the log
/// by background tasks; the media thread only does one non-blocking, non-allocating sendto per
/// packet. Start failures are logged and shown in <see cref="State"/>, never thrown.
/// </summary>
public sealed partial class ShellForwardSink : IEncodedFrameSink, IRtpPacketTap, IDisposable
{
    private const int Sigterm = 15, Sigkill = 9, XOk = 1;
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    private readonly string _stream;
    private readonly Lock _gate = new();
    private readonly Socket? _socket;
    // One cached address per track: SendTo(span, flags, SocketAddress) does not allocate.
    private readonly SocketAddress[] _targets = [];
    // Probe sockets holding each RTP port and its RTCP port+1 until the script starts.
    private List<Socket>? _reservations = [];
    private Process? _process;
    private volatile bool _forwarding;
    private volatile int _pid;
    private volatile string _state = "starting";
    private int _ended;
    // Set once the Exited handler has read the exit code: only then may the Process be disposed.
    private readonly TaskCompletionSource _exitHandled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _forwarded, _dropped;

    /// <param name="script">The RTP2RTMPSHELL path.</param>
    /// <param name="rtmpUrl">Passed through as the second argument.</param>
    /// <param name="transcode">The legacy flag, passed as "1"/"0"; the caller decides.</param>
    /// <param name="workDirectory">Where the .sdp and .log go (created if missing).</param>
    public ShellForwardSink(string script, string rtmpUrl, bool transcode, string workDirectory, SinkRequest request)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(script);
        ArgumentNullException.ThrowIfNull(rtmpUrl);
        ArgumentException.ThrowIfNullOrWhiteSpace(workDirectory);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Tracks);
        if (request.Tracks.Count == 0)
            throw new ArgumentException("no tracks to forward", nameof(request));
        foreach (var t in request.Tracks)
        {
            if ((uint)t.PayloadType > 127)
                throw new ArgumentException($"payload type {t.PayloadType} out of range", nameof(request));
        }

        _stream = request.Stream ?? "";
        string directory = Path.GetFullPath(workDirectory);
        string baseName = PlainRtpSdp.SafeName(request.Stream) + "-" + PlainRtpSdp.SafeName(request.SessionId);
        SdpPath = Path.Combine(directory, baseName + ".sdp");
        LogPath = Path.Combine(directory, baseName + ".log");

        try
        {
            var ports = new int[request.Tracks.Count];
            _targets = new SocketAddress[ports.Length];
            for (int i = 0; i < ports.Length; i++)
            {
                ports[i] = ReservePortPair(_reservations);
                _targets[i] = new IPEndPoint(IPAddress.Loopback, ports[i]).Serialize();
            }
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { Blocking = false };
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            TrySetSendBuffer(_socket);

            Directory.CreateDirectory(directory);
            File.WriteAllText(SdpPath, PlainRtpSdp.Build(request.Stream ?? "", request.Tracks, ports));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException or InvalidOperationException)
        {
            Fail($"setup: {e.Message}");
            ReleaseReservations();
            return;
        }

        Start(script, rtmpUrl, transcode);
    }

    public string SdpPath { get; }
    public string LogPath { get; }
    public long PacketsForwarded => Interlocked.Read(ref _forwarded);
    public long PacketsDropped => Interlocked.Read(ref _dropped);
    /// <summary>The script's process id while it runs; null before it started and after it exited.</summary>
    public int? ProcessId => _pid is var p and > 0 ? p : null;
    /// <summary>"running", "exited(code)" or "failed: reason" (for /api/streams).</summary>
    public string State => _state;

    // Frames are not needed in this mode: the script gets the RTP itself.
    public void OnFrame(int trackIndex, in EncodedFrame frame)
    {
    }

    public void OnRtpPacket(int trackIndex, ReadOnlySpan<byte> rtpPacket)
    {
        var socket = _socket;
        if (!_forwarding || socket == null || (uint)trackIndex >= (uint)_targets.Length)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        try
        {
            socket.SendTo(rtpPacket, SocketFlags.None, _targets[trackIndex]);
            Interlocked.Increment(ref _forwarded);
        }
        catch (SocketException)
        {
            // A full send buffer (non-blocking) or a port gone: the script loses this packet, the session goes on.
            Interlocked.Increment(ref _dropped);
        }
        catch (ObjectDisposedException)
        {
            // Dispose on another thread won the race.
            Interlocked.Increment(ref _dropped);
        }
    }

    public void OnEnd() => Stop();

    public void Dispose() => Stop();

    private void Start(string script, string rtmpUrl, bool transcode)
    {
        string path;
        try
        {
            path = Path.GetFullPath(script);
        }
        catch (Exception e) when (e is ArgumentException or IOException or NotSupportedException or System.Security.SecurityException)
        {
            Fail($"bad script path: {e.Message}");
            ReleaseReservations();
            return;
        }
        if (!File.Exists(path))
        {
            Fail($"script not found: {path}");
            ReleaseReservations();
            return;
        }

        // Arguments go to execve one by one: nothing in them is ever parsed by a shell.
        var psi = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        if (IsExecutable(path))
        {
            psi.FileName = path;
        }
        else
        {
            psi.FileName = "/bin/sh";
            psi.ArgumentList.Add(path);
        }
        psi.ArgumentList.Add(SdpPath);
        psi.ArgumentList.Add(rtmpUrl);
        psi.ArgumentList.Add(transcode ? "1" : "0");
        psi.ArgumentList.Add(LogPath);

        Stream log = OpenLog(path);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.Exited += (_, _) => OnExited(process);
        // The script binds the ports itself: let go of them just before it starts.
        ReleaseReservations();
        try
        {
            if (!process.Start())
                throw new InvalidOperationException("process not started");
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException or PlatformNotSupportedException)
        {
            Fail($"cannot start {path}: {e.Message}");
            process.Dispose();
            log.Dispose();
            return;
        }

        int pid;
        try
        {
            pid = process.Id;
            // EOF on stdin: a script that reads it must not wait on (or steal) the engine's terminal.
            process.StandardInput.Close();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            pid = 0;
        }
        var pumps = new[]
        {
            Task.Run(() => PumpAsync(process.StandardOutput.BaseStream, log)),
            Task.Run(() => PumpAsync(process.StandardError.BaseStream, log)),
        };
        _ = Task.WhenAll(pumps).ContinueWith(_ => log.Dispose(), TaskScheduler.Default);

        lock (_gate)
        {
            _process = process;
            // Exited may already have run (a script that fails at once); it then set the state.
            if (_state == "starting")
            {
                _pid = pid;
                _state = "running";
                _forwarding = true;
            }
        }
        Log.Notice($"rtp2rtmp shell {_stream}: started {path} pid {pid}, sdp {SdpPath}");
    }

    private void OnExited(Process process)
    {
        int code;
        try
        {
            code = process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            code = -1;
        }
        bool ended;
        lock (_gate)
        {
            _forwarding = false;
            _pid = 0;
            _state = $"exited({code.ToString(CultureInfo.InvariantCulture)})";
            ended = Volatile.Read(ref _ended) != 0;
        }
        _exitHandled.TrySetResult();
        if (ended)
            Log.Info($"rtp2rtmp shell {_stream}: script exited with {code}");
        else
            Log.Warn($"rtp2rtmp shell {_stream}: script exited with {code} while the stream is live, see {LogPath}");
    }

    private void Stop()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
            return;
        Process? process;
        lock (_gate)
        {
            _forwarding = false;
            process = _process;
            _process = null;
        }
        ReleaseReservations();
        try
        {
            _socket?.Dispose();
        }
        catch (SocketException)
        {
        }
        try
        {
            File.Delete(SdpPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Warn($"rtp2rtmp shell {_stream}: cannot delete {SdpPath}: {e.Message}");
        }
        if (process != null)
            _ = Task.Run(() => TerminateAsync(process));
    }

    /// <summary>
    /// SIGTERM to the script and everything it started (a script that runs ffmpeg without exec
    /// would otherwise leave it orphaned, still pushing to the RTMP server), then SIGKILL what is
    /// left after the grace period.
    /// </summary>
    private async Task TerminateAsync(Process process)
    {
        string stream = _stream;
        try
        {
            if (process.HasExited)
                return;
            int pid = process.Id;
            var tree = Descendants(pid);
            Signal(pid, Sigterm);
            foreach (var (child, _) in tree)
                Signal(child, Sigterm);
            // ffmpeg finishes its output on SIGTERM: give the whole tree the grace period, not just the root.
            long deadline = Environment.TickCount64 + (long)StopGrace.TotalMilliseconds;
            while (Environment.TickCount64 < deadline && !(process.HasExited && tree.TrueForAll(c => !IsAlive(c.Pid, c.StartTime))))
                await Task.Delay(50).ConfigureAwait(false);
            if (!process.HasExited)
            {
                Log.Warn($"rtp2rtmp shell {stream}: pid {pid} ignored SIGTERM, killing it");
                process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                try
                {
                    await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
            // Children reparented after their parent died are out of Kill's reach: the same ones only (start time checked).
            foreach (var (child, startTime) in tree)
            {
                if (IsAlive(child, startTime))
                    Signal(child, Sigkill);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception or NotSupportedException or AggregateException)
        {
            Log.Warn($"rtp2rtmp shell {stream}: stopping the script: {e.Message}");
        }
        finally
        {
            if (await Task.WhenAny(_exitHandled.Task, Task.Delay(1000)).ConfigureAwait(false) == _exitHandled.Task)
                process.Dispose();
        }
    }

    private static async Task PumpAsync(Stream from, Stream log)
    {
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                lock (log)
                {
                    log.Write(buffer, 0, n);
                    log.Flush();
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // A full disk or a closed pipe: the script's output is lost, not the stream.
        }
    }

    private Stream OpenLog(string script)
    {
        try
        {
            var log = new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            var header = System.Text.Encoding.UTF8.GetBytes($"--- {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} start {script} {_stream}\n");
            log.Write(header);
            log.Flush();
            return log;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The pipes are still drained, or a chatty script would block on them.
            Log.Warn($"rtp2rtmp shell {_stream}: cannot open {LogPath}: {e.Message}");
            return Stream.Null;
        }
    }

    private void Fail(string reason)
    {
        lock (_gate)
        {
            _forwarding = false;
            _state = "failed: " + reason;
        }
        Log.Error($"rtp2rtmp shell {_stream}: {reason}");
    }

    private void ReleaseReservations()
    {
        List<Socket>? sockets;
        lock (_gate)
        {
            sockets = _reservations;
            _reservations = null;
        }
        if (sockets == null)
            return;
        foreach (var s in sockets)
            s.Dispose();
    }

    /// <summary>
    /// An even RTP port whose RTCP port+1 is free too (RTP convention), both held by bound sockets
    /// in <paramref name="held"/> until the script starts.
    /// </summary>
    private static int ReservePortPair(List<Socket>? held)
    {
        ArgumentNullException.ThrowIfNull(held);
        for (int attempt = 0; attempt < 64; attempt++)
        {
            var first = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            Socket? second = null;
            try
            {
                first.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                int port = ((IPEndPoint)first.LocalEndPoint!).Port;
                int rtp = port & ~1;
                if (rtp == 0)
                {
                    first.Dispose();
                    continue;
                }
                second = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                second.Bind(new IPEndPoint(IPAddress.Loopback, rtp == port ? port + 1 : rtp));
                held.Add(first);
                held.Add(second);
                return rtp;
            }
            catch (SocketException)
            {
                first.Dispose();
                second?.Dispose();
            }
        }
        throw new InvalidOperationException("no free even UDP port pair on 127.0.0.1");
    }

    private static void TrySetSendBuffer(Socket socket)
    {
        try
        {
            // Room for a keyframe's burst of packets while the script is slow to read.
            socket.SendBufferSize = 1 << 20;
        }
        catch (SocketException)
        {
        }
    }

    private static bool IsExecutable(string path)
    {
        try
        {
            return access(path, XOk) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
    }

    private static void Signal(int pid, int signal)
    {
        if (pid <= 0)
            return;
        try
        {
            kill(pid, signal);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    /// <summary>All processes below <paramref name="root"/> (from /proc; none elsewhere), with their start times.</summary>
    private static List<(int Pid, long StartTime)> Descendants(int root)
    {
        var result = new List<(int, long)>();
        var parents = new Dictionary<int, List<(int, long)>>();
        try
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                    continue;
                if (ReadStat(pid) is not { } stat)
                    continue;
                if (!parents.TryGetValue(stat.Ppid, out var children))
                    parents[stat.Ppid] = children = [];
                children.Add((pid, stat.StartTime));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return result;
        }
        var queue = new Queue<int>();
        queue.Enqueue(root);
        while (queue.Count > 0 && result.Count < 1024)
        {
            if (!parents.TryGetValue(queue.Dequeue(), out var children))
                continue;
            foreach (var child in children)
            {
                result.Add(child);
                queue.Enqueue(child.Item1);
            }
        }
        return result;
    }

    // The same process (pid not reused) and not a zombie.
    private static bool IsAlive(int pid, long startTime) => ReadStat(pid) is { } s && s.StartTime == startTime && !s.Zombie;

    // /proc/<pid>/stat: "pid (comm) state ppid ... starttime(22nd field)"; comm may hold spaces and ')'.
    private static (int Ppid, long StartTime, bool Zombie)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        int close = text.LastIndexOf(')');
        if (close < 0)
            return null;
        var fields = text.AsSpan(close + 1).Trim().ToString().Split(' ');
        if (fields.Length < 20
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int ppid)
            || !long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out long start))
            return null;
        return (ppid, start, fields[0] is "Z" or "X");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int access(string path, int mode);
}

namespace Engine.EndToEnd.Tests;

/// <summary>
/// A network namespace of the test's own, joined to this one by a veth pair on a private /30:
/// the host end gets .1, the namespace end .2. For a browser that will not use loopback for ICE
/// (Firefox gathers no loopback candidates): it runs inside, the engine binds the host end, and no
/// packet leaves the pair. Deleting the namespace deletes the pair.
/// </summary>
internal sealed class NetNamespace : IDisposable
{
    public string Name { get; }
    public string HostAddress { get; }
    public string InsideAddress { get; }
    /// <summary>The veth end on the host side: its egress carries what the host sends into the namespace.</summary>
    public string HostInterface { get; }
    /// <summary>The veth end inside: its egress carries what the namespace sends out (tc there with <see cref="Exec"/>).</summary>
    public string InsideInterface { get; }

    /// <param name="tag">names the namespace and its veth ends (a test's own, to tell them apart in `ip` listings)</param>
    public NetNamespace(string? tag = null)
    {
        string id = Guid.NewGuid().ToString("n")[..6];
        Name = (tag ?? "engtest") + "-" + id;
        string t = tag is { Length: > 0 } ? tag[..Math.Min(tag.Length, 6)] : "ve";
        string hostEnd = t + "h" + id, insideEnd = t + "n" + id; // interface names: at most 15 characters
        HostInterface = hostEnd;
        InsideInterface = insideEnd;
        // A third octet no interface here uses yet.
        var used = Tools.Run(Tools.Require("ip"), "-4 -o addr show").Stdout;
        int octet = Enumerable.Range(0, 64).Select(_ => Random.Shared.Next(1, 255)).First(o => !used.Contains($"10.213.{o}."));
        HostAddress = $"10.213.{octet}.1";
        InsideAddress = $"10.213.{octet}.2";
        Ip($"netns add {Name}");
        try
        {
            Ip($"link add {hostEnd} type veth peer name {insideEnd}");
            Ip($"link set {insideEnd} netns {Name}");
            Ip($"addr add {HostAddress}/30 dev {hostEnd}");
            Ip($"link set {hostEnd} up");
            Ip($"-n {Name} addr add {InsideAddress}/30 dev {insideEnd}");
            Ip($"-n {Name} link set {insideEnd} up");
            Ip($"-n {Name} link set lo up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The command line that runs <paramref name="file"/> inside the namespace.</summary>
    public (string File, string Arguments) Exec(string file, string arguments) => (Tools.Require("ip"), $"netns exec {Name} {file} {arguments}");

    private static void Ip(string arguments)
    {
        var r = Tools.Run(Tools.Require("ip"), arguments, 10_000);
        Assert.True(r.Code == 0, $"ip {arguments}: {r.Stderr.Trim()} (the end-to-end tests need root for network namespaces)");
    }

    public void Dispose() => Tools.Run(Tools.Require("ip"), $"netns del {Name}", 10_000);
}

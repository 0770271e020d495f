using Engine.Host;

namespace Engine.Host.Tests;

public class CliTests
{
    private static (int code, string stdout, string stderr) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void VersionPrintsTheAssemblyVersion()
    {
        var (code, stdout, _) = Run("--version");
        Assert.Equal(0, code);
        Assert.Equal($"engine {Cli.Version}", stdout.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", Cli.Version);
    }

    [Fact]
    public void HelpListsEveryOption()
    {
        var (code, stdout, _) = Run("--help");
        Assert.Equal(0, code);
        foreach (var opt in new[] { "--config", "--version", "--help", "--print-config", "--check-config", "--dump-dir" })
            Assert.Contains(opt, stdout);
    }

    [Fact]
    public void UnknownOptionFailsWithAMessage()
    {
        var (code, _, stderr) = Run("--nope");
        Assert.Equal(2, code);
        Assert.Contains("--nope", stderr);
    }

    [Fact]
    public void MissingConfigFileFailsWithAMessage()
    {
        var (code, _, stderr) = Run("--config", "/nonexistent/engine.ini");
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/engine.ini", stderr);
    }
}

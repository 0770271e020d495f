using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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

    [Fact]
    public void AnRsa1024DtlsCertificateIsRefusedAtStartUpWithTheReason()
    {
        // RSA DTLSCER/DTLSKEY pairs load (2048 to 4096 bits); a smaller key stops the server before it binds anything.
        string dir = Directory.CreateTempSubdirectory("host-dtls-rsa-").FullName;
        try
        {
            using var rsa = RSA.Create(1024);
            using var cert = new CertificateRequest("CN=legacy", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            string certPath = Path.Combine(dir, "cert.pem"), keyPath = Path.Combine(dir, "key.pem"), configPath = Path.Combine(dir, "engine.ini");
            File.WriteAllText(certPath, cert.ExportCertificatePem());
            File.WriteAllText(keyPath, rsa.ExportRSAPrivateKeyPem());
            File.WriteAllText(configPath, $"[WEBRTC]\nDTLSCER={certPath}\nDTLSKEY={keyPath}\n");
            var (code, _, stderr) = Run("--config", configPath);
            Assert.Equal(2, code);
            Assert.Contains("DTLSCER/DTLSKEY: DTLS RSA key has 1024 bits; 2048 to 4096 are accepted", stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

using Engine.Rtp.Tests.Video;

namespace Engine.Rtp.Tests.Send;

/// <summary>Access units of the ffmpeg-made H.264 test data, split the way a decoder would (H.264 §7.4.1.2.3).</summary>
internal static class SendTestData
{
    public static List<List<byte[]>> AccessUnits(string file)
    {
        var aus = new List<List<byte[]>>();
        List<byte[]>? current = null;
        bool lastWasVcl = false;
        foreach (var nal in H264TestData.AnnexBNals(File.ReadAllBytes(H264TestData.PathOf(file))))
        {
            int type = nal[0] & 0x1F;
            bool vcl = type is >= 1 and <= 5;
            // A new AU: a non-VCL unit after a slice, or a slice with first_mb_in_slice == 0 (ue(v) "1").
            bool starts = current == null || (lastWasVcl && (!vcl || (nal[1] & 0x80) != 0));
            if (starts)
                aus.Add(current = []);
            current!.Add(nal);
            lastWasVcl = vcl;
        }
        return aus;
    }

    /// <summary>An AU as Annex B, alternating 4- and 3-byte start codes to exercise both.</summary>
    public static byte[] AnnexB(IEnumerable<byte[]> nals)
    {
        using var ms = new MemoryStream();
        int i = 0;
        foreach (var nal in nals)
        {
            ms.Write(i++ % 2 == 0 ? [0, 0, 0, 1] : [0, 0, 1]);
            ms.Write(nal);
        }
        return ms.ToArray();
    }

    public static readonly string[] H264Files =
        ["baseline-320x240.h264", "main-640x360.h264", "high-200x120.h264", "high444-64x48.h264", "interlaced-320x240.h264"];
}

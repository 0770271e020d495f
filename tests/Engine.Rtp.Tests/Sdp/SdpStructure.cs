using System.Collections;
using System.Reflection;

namespace Engine.Rtp.Tests.Sdp;

/// <summary>Deep, reflection-based equality of parsed SDP models, independent of the writer:
/// walks public properties and lists and reports the first path that differs.</summary>
internal static class SdpStructure
{
    public static void AssertEqual(object? expected, object? actual)
    {
        var diff = FindDifference(expected, actual, "sdp", depth: 0);
        Assert.True(diff is null, diff);
    }

    public static string? FindDifference(object? a, object? b, string path, int depth)
    {
        if (depth > 20) return $"{path}: model nested too deep";
        if (a is null || b is null) return a is null && b is null ? null : $"{path}: {a ?? "null"} vs {b ?? "null"}";
        if (a.GetType() != b.GetType()) return $"{path}: type {a.GetType().Name} vs {b.GetType().Name}";
        if (a is string || a.GetType().IsPrimitive || a.GetType().IsEnum)
            return Equals(a, b) ? null : $"{path}: '{a}' vs '{b}'";
        if (a is IEnumerable ea && b is IEnumerable eb)
        {
            var la = ea.Cast<object?>().ToList();
            var lb = eb.Cast<object?>().ToList();
            if (la.Count != lb.Count) return $"{path}: {la.Count} items vs {lb.Count}";
            for (int i = 0; i < la.Count; i++)
            {
                var d = FindDifference(la[i], lb[i], $"{path}[{i}]", depth + 1);
                if (d != null) return d;
            }
            return null;
        }
        var props = a.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract");
        int checkedProps = 0;
        foreach (var p in props)
        {
            checkedProps++;
            var d = FindDifference(p.GetValue(a), p.GetValue(b), path + "." + p.Name, depth + 1);
            if (d != null) return d;
        }
        if (checkedProps == 0 && !Equals(a, b)) return $"{path}: '{a}' vs '{b}'";
        return null;
    }
}

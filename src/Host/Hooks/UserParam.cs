namespace Engine.Host.Hooks;

/// <summary>
/// The login's <c>param</c>: an opaque <c>k=v&amp;...</c> string passed to the back-end as it
/// came; only <c>userId</c> is read from it (the key matched case-insensitively, the value
/// percent-decoded).
/// </summary>
public static class UserParam
{
    public const int MaxLength = 4096;

    public static bool TryGetUserId(string? param, out string userId)
    {
        userId = "";
        if (string.IsNullOrEmpty(param) || param.Length > MaxLength)
            return false;
        foreach (var pair in param.Split('&'))
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0 || !pair.AsSpan(0, eq).Trim().Equals("userId", StringComparison.OrdinalIgnoreCase))
                continue;
            string value;
            try
            {
                value = Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' ')).Trim();
            }
            catch (UriFormatException)
            {
                return false;
            }
            if (value.Length == 0 || value.Length > 256 || value.Any(char.IsControl))
                return false;
            userId = value;
            return true;
        }
        return false;
    }
}

namespace Engine.Gcc;

/// <summary>The over-use detector's signal (draft-ietf-rmcat-gcc-02 §5.4).</summary>
public enum BandwidthUsage
{
    Normal,
    Overusing,
    Underusing,
}

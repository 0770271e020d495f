namespace Engine.Host.Config;

/// <summary>A start-up error in the config: names the key so the operator can fix it.</summary>
public sealed class ConfigException(string message) : Exception(message);

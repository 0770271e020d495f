namespace Engine.Host.Output;

/// <summary>What an <see cref="OutputWorkers"/> worker serves.</summary>
public interface IOutputWorkerMember
{
    /// <summary>One turn on the worker's thread; false when the member leaves the worker.</summary>
    bool Turn();

    /// <summary>Turn threw: the member must leave the worker (it is not called again).</summary>
    void TurnFailed(Exception e);
}

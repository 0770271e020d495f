using Engine.Ice.Turn;

namespace Engine.Ice.Tests.Turn;

public class TurnFloodTests
{
    [Fact]
    public void UnauthenticatedAnswers_AreRateLimited()
    {
        var clock = new TestClock();
        var o = T.Options();
        o.UnauthenticatedResponsesPerSecond = 5;
        var server = new TurnServer(o, new FakeRelayPortAllocator());
        var client = new TurnTestClient(server, clock, T.Tuple("203.0.113.7:1"));
        var binding = client.Build(StunMethod.Binding, StunClass.Request, null, authenticate: false);
        var allocate = client.Build(StunMethod.Allocate, StunClass.Request, (ref StunMessageWriter w) => w.AddRequestedTransport(17), authenticate: false);
        int answered = 0;
        for (int i = 0; i < 20; i++)
            if (client.Send(i % 2 == 0 ? binding : allocate).Action == TurnAction.ToClient)
                answered++;
        Assert.Equal(5, answered);
        Assert.Equal(15, server.Counters[TurnDropReason.RateLimited]);
        clock.Advance(1);
        Assert.Equal(TurnAction.ToClient, client.Send(binding).Action);
    }
}

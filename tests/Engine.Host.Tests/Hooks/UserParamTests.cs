using Engine.Host.Hooks;

namespace Engine.Host.Tests.Hooks;

public class UserParamTests
{
    [Theory]
    [InlineData("userId=bob", "bob")]
    [InlineData("token=abc&userId=bob&room=7", "bob")]
    [InlineData("a=1&USERID=Bob", "Bob")]
    [InlineData("userId=b%C3%B6b%20x&x=y", "böb x")]
    [InlineData("x=userId%3Dmallory&userId=alice", "alice")]
    public void TheUserIdIsReadFromTheParam(string param, string expected)
    {
        Assert.True(UserParam.TryGetUserId(param, out var userId));
        Assert.Equal(expected, userId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("token=abc")]
    [InlineData("userId=")]
    [InlineData("userId=%0a")]
    [InlineData("user=bob&id=3")]
    public void AParamWithoutAUsableUserIdIsRefused(string? param)
    {
        Assert.False(UserParam.TryGetUserId(param, out var userId));
        Assert.Equal("", userId);
    }

    [Fact]
    public void AnOverlongParamIsRefused() =>
        Assert.False(UserParam.TryGetUserId("userId=bob&pad=" + new string('x', UserParam.MaxLength), out _));
}

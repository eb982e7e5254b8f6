using DeployPortal.Web.Auth;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeployPortal.Web.Tests.Auth;

public sealed class CircuitLimitTests
{
    private readonly CircuitCounter _counter = new();
    private readonly TestOptionsMonitor<SessionOptions> _options = new(new SessionOptions { MaxCircuitsPerUser = 2 });

    [Fact]
    public async Task CircuitLimit_BeyondTheLimitForOnePerson_RefusesTheCircuit_ButNotOthers()
    {
        var first = Handler(TestUsers.Dana);
        var second = Handler(TestUsers.Dana);
        await first.OnCircuitOpenedAsync(null!, default);
        await second.OnCircuitOpenedAsync(null!, default);

        var third = Handler(TestUsers.Dana);
        await Assert.ThrowsAsync<InvalidOperationException>(() => third.OnCircuitOpenedAsync(null!, default));
        await Handler(TestUsers.Devon).OnCircuitOpenedAsync(null!, default);

        Assert.Equal(2, _counter.OpenFor("dana"));
        Assert.Equal(1, _counter.OpenFor("devon"));
    }

    [Fact]
    public async Task CircuitLimit_AfterATabCloses_AllowsANewOne()
    {
        var first = Handler(TestUsers.Dana);
        await first.OnCircuitOpenedAsync(null!, default);
        await Handler(TestUsers.Dana).OnCircuitOpenedAsync(null!, default);

        await first.OnCircuitClosedAsync(null!, default);
        await first.OnCircuitClosedAsync(null!, default); // closing twice must not free a second place

        await Handler(TestUsers.Dana).OnCircuitOpenedAsync(null!, default);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Handler(TestUsers.Dana).OnCircuitOpenedAsync(null!, default));
    }

    [Fact]
    public async Task CircuitCounter_ManyOpensAndClosesAtOnce_StaysExact()
    {
        var counter = new CircuitCounter();

        await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                Assert.True(counter.TryOpen("dana", int.MaxValue));
                counter.Close("dana");
            }
        })));

        Assert.Equal(0, counter.OpenFor("dana"));
    }

    private CircuitLimitHandler Handler(System.Security.Claims.ClaimsPrincipal user) =>
        new(_counter, new FixedAuthentication(user), _options, NullLogger<CircuitLimitHandler>.Instance);

    private sealed class FixedAuthentication(System.Security.Claims.ClaimsPrincipal user) : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(user));
    }
}

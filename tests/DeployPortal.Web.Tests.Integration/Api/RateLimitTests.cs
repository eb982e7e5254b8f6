using System.Net;
using System.Net.Http.Headers;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace DeployPortal.Web.Tests.Api;

public sealed class RateLimitTests
{
    [Fact]
    public async Task Api_PastThePermitsOfTheWindow_Returns429ProblemDetails_WithRetryAfter_PerToken()
    {
        await using var database = await TestDatabase.CreateAsync(Data.DatabaseProvider.Sqlite);
        using var host = new PortalHost(database, settings: new Dictionary<string, string?>
        {
            ["Api:RateLimit:PermitsPerWindow"] = "3",
            // Long enough that the window never rolls over during the test.
            ["Api:RateLimit:Window"] = "01:00:00",
        });
        host.Start();
        string first, second;
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<AccessTokenService>();
            first = (await tokens.CreateAsync(TestUsers.Dana, new CreateAccessTokenRequest("one", TimeSpan.FromDays(1)))).Value!.Secret;
            second = (await tokens.CreateAsync(TestUsers.Devon, new CreateAccessTokenRequest("two", TimeSpan.FromDays(1)))).Value!.Secret;
        }

        using var client = host.CreateLoopbackClient();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/slots");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", first);
            last = await client.SendAsync(request);
            statuses.Add(last.StatusCode);
        }

        using var other = new HttpRequestMessage(HttpMethod.Get, "/api/v1/slots");
        other.Headers.Authorization = new AuthenticationHeaderValue("Bearer", second);
        var otherResponse = await client.SendAsync(other);

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal("application/problem+json", last!.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(last.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, otherResponse.StatusCode);
    }

    [Fact]
    public async Task Api_AFreshMadeUpTokenOnEveryRequest_IsLimitedByAddress_After_FailedAuthPerWindow()
    {
        await using var database = await TestDatabase.CreateAsync(Data.DatabaseProvider.Sqlite);
        using var host = new PortalHost(database, settings: new Dictionary<string, string?>
        {
            ["Api:RateLimit:FailedAuthPerWindow"] = "3",
            ["Api:RateLimit:Window"] = "01:00:00",
        });
        host.Start();

        using var client = host.CreateLoopbackClient();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/slots");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "dp_guess" + Guid.NewGuid().ToString("N"));
            last = await client.SendAsync(request);
            statuses.Add(last.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal("application/problem+json", last!.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(last.Headers.RetryAfter);
    }
}

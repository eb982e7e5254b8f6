using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Api;

/// <summary>What a pipeline that retries does: the same POST again with the same Idempotency-Key.</summary>
public sealed class IdempotencyTests(ApiHost api) : IClassFixture<ApiHost>
{
    [Fact]
    public async Task Claim_RepeatedWithTheSameKeyAndBody_GetsTheSameStoredAnswer_AndClaimsOnce()
    {
        var slot = await api.AddSlotAsync();
        using var client = api.Client((await api.CreateTokenAsync(TestUsers.Dana)).Secret);
        var key = Guid.NewGuid().ToString();

        var first = await PostAsync(client, $"/api/v1/slots/{slot.Id}/claim", "{\"purpose\": \"ci 7\"}", key);
        var second = await PostAsync(client, $"/api/v1/slots/{slot.Id}/claim", "{\"purpose\": \"ci 7\"}", key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        await using var db = api.Database.Factory.CreateDbContext();
        Assert.Equal(1, await db.AuditEvents.CountAsync(a => a.SlotId == slot.Id && a.Action == Web.Audit.AuditActions.Claim));
    }

    [Fact]
    public async Task Release_RepeatedWithTheSameKey_AnswersTheFirstReleaseAgain_NotAConflict()
    {
        var slot = await api.AddSlotAsync();
        using var client = api.Client((await api.CreateTokenAsync(TestUsers.Dana)).Secret);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/claim", new { purpose = "ci" })).StatusCode);
        var key = Guid.NewGuid().ToString();

        var first = await PostAsync(client, $"/api/v1/slots/{slot.Id}/release", "{}", key);
        var retry = await PostAsync(client, $"/api/v1/slots/{slot.Id}/release", "{}", key);
        var withoutKey = await PostAsync(client, $"/api/v1/slots/{slot.Id}/release", "{}", null);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, withoutKey.StatusCode); // nobody holds it any more
    }

    [Fact]
    public async Task Claim_SameKeyWithAnotherBody_Answers422Problem_AndDoesNothing()
    {
        var slot = await api.AddSlotAsync();
        var other = await api.AddSlotAsync();
        using var client = api.Client((await api.CreateTokenAsync(TestUsers.Dana)).Secret);
        var key = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(client, $"/api/v1/slots/{slot.Id}/claim", "{\"purpose\": \"a\"}", key)).StatusCode);

        var otherBody = await PostAsync(client, $"/api/v1/slots/{slot.Id}/claim", "{\"purpose\": \"b\"}", key);
        var otherPath = await PostAsync(client, $"/api/v1/slots/{other.Id}/claim", "{\"purpose\": \"a\"}", key);

        foreach (var response in new[] { otherBody, otherPath })
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("different request", await response.Content.ReadAsStringAsync());
        }

        await using var db = api.Database.Factory.CreateDbContext();
        Assert.False(await db.Holds.AnyAsync(h => h.SlotId == other.Id));
    }

    [Fact]
    public async Task Claim_TheSameKeyFromAnotherPerson_IsTheirOwnKey()
    {
        var slot = await api.AddSlotAsync();
        using var dana = api.Client((await api.CreateTokenAsync(TestUsers.Dana)).Secret);
        using var devon = api.Client((await api.CreateTokenAsync(TestUsers.Devon)).Secret);
        var key = Guid.NewGuid().ToString();

        var danas = await PostAsync(dana, $"/api/v1/slots/{slot.Id}/claim", "{\"purpose\": \"a\"}", key);
        var devons = await PostAsync(devon, $"/api/v1/slots/{slot.Id}/claim", "{\"purpose\": \"a\"}", key);

        Assert.Equal(HttpStatusCode.Created, danas.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, devons.StatusCode); // not Dana's stored answer: Devon lost the slot to her
        Assert.Contains("Dana Developer", await devons.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Extend_TenAtOnceWithOneKey_ThenARetry_ExtendsOnce_AndEveryAnswerIsThatOrStillBeingAnswered()
    {
        var slot = await api.AddSlotAsync();
        using var client = api.Client((await api.CreateTokenAsync(TestUsers.Dana)).Secret);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/claim", new { purpose = "ci", duration = "01:00:00" })).StatusCode);
        await using var before = api.Database.Factory.CreateDbContext();
        var hold = await before.Holds.AsNoTracking().SingleAsync(h => h.SlotId == slot.Id);
        var key = Guid.NewGuid().ToString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => PostAsync(client, $"/api/v1/slots/{slot.Id}/extend", "{\"by\": \"01:00:00\"}", key)));
        var retry = await PostAsync(client, $"/api/v1/slots/{slot.Id}/extend", "{\"by\": \"01:00:00\"}", key);

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, r.StatusCode.ToString()));
        foreach (var conflict in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
        {
            Assert.Contains("still being answered", await conflict.Content.ReadAsStringAsync());
            Assert.NotNull(conflict.Headers.RetryAfter);
        }

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        await using var after = api.Database.Factory.CreateDbContext();
        Assert.Equal(hold.Until.AddHours(1), (await after.Holds.AsNoTracking().SingleAsync(h => h.Id == hold.Id)).Until);
    }

    [Theory]
    [InlineData("")]
    [InlineData("key with spaces")]
    public async Task Claim_WithAnUnusableKey_Answers400Problem_NamingTheHeader(string key)
    {
        var slot = await api.AddSlotAsync();
        using var client = api.Client((await api.CreateTokenAsync(TestUsers.Dana)).Secret);

        var response = await PostAsync(client, $"/api/v1/slots/{slot.Id}/claim", "{\"purpose\": \"a\"}", key);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Idempotency-Key: expected", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Claim_OfASlotYouAlreadyHold_Answers200AlreadyYours_Not201()
    {
        var slot = await api.AddSlotAsync();
        using var pipelineA = api.Client((await api.CreateTokenAsync(TestUsers.Dana)).Secret);
        using var pipelineB = api.Client((await api.CreateTokenAsync(TestUsers.Dana)).Secret);

        var won = await pipelineA.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/claim", new { purpose = "pipeline a" });
        var again = await pipelineB.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/claim", new { purpose = "pipeline b" });

        Assert.Equal(HttpStatusCode.Created, won.StatusCode);
        Assert.False((await won.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("alreadyYours", out _));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var hold = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(hold.GetProperty("alreadyYours").GetBoolean());
        Assert.Equal("pipeline a", hold.GetProperty("purpose").GetString());
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string json, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        return await client.SendAsync(request);
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Api;

/// <summary>The slot API on PostgreSQL, as a CI job uses it.</summary>
public sealed class PostgresSlotsApiTests(PostgresApiHost api) : IClassFixture<PostgresApiHost>
{
    [Fact]
    public async Task Extend_WithTheUntilTheClaimAnswered_AsSeenUntil_ExtendsOnce_AndARetryIsTold()
    {
        var slot = await api.AddSlotAsync();
        var token = await api.CreateTokenAsync(TestUsers.Devon);
        using var client = api.Client(token.Secret);

        var claim = await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/claim", new { purpose = "ci run 43", duration = "01:00:00" });
        Assert.Equal(HttpStatusCode.Created, claim.StatusCode);
        var hold = await claim.Content.ReadFromJsonAsync<JsonElement>();
        var body = new { by = "00:30:00", holdId = hold.GetProperty("id").GetInt64(), seenUntil = hold.GetProperty("until").GetString() };

        var extend = await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/extend", body);
        var retry = await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/extend", body);

        Assert.Equal(HttpStatusCode.OK, extend.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, retry.StatusCode);
        Assert.Contains("was already extended", await retry.Content.ReadAsStringAsync());
        var read = await client.GetFromJsonAsync<JsonElement>($"/api/v1/slots/{slot.Id}");
        var until = read.GetProperty("hold").GetProperty("until").GetString();
        Assert.Equal((await extend.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("until").GetString(), until);
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Api;

/// <summary>Purposes and QA notes as people paste them, through the API into PostgreSQL.</summary>
public sealed class FreeTextApiTests(PostgresApiHost api) : IClassFixture<PostgresApiHost>
{
    [Theory]
    [InlineData("payment\u0000test", "contains a NUL character")]
    [InlineData("\u001b[31mred\u001b[0m", "control character U+001B")]
    [InlineData("line one\r\nline two", "control character U+000D")]
    [InlineData("bell\u0007", "control character U+0007")]
    [InlineData("\u200B\u200B\u2060", "Say what you need the slot for")]
    [InlineData("  \u00A0 ", "Say what you need the slot for")]
    public async Task Claim_WithAPurposeThatCannotBeStoredOrShowsNothing_Answers400_AndClaimsNothing(string purpose, string expected)
    {
        var slot = await api.AddSlotAsync();
        using var client = await api.ClientAsync(TestUsers.Dana);

        var response = await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/claim", new { purpose });

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Contains(expected, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
        await using var db = api.Database.Factory.CreateDbContext();
        Assert.False(await db.Holds.AnyAsync(h => h.SlotId == slot.Id));
    }

    [Fact]
    public async Task Claim_WithABidiOverride_StoresThePurposeWithoutIt_SoItReadsAsTyped()
    {
        var slot = await api.AddSlotAsync();
        using var client = await api.ClientAsync(TestUsers.Dana);

        var response = await client.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/claim", new { purpose = "  invoice_\u202Efdp.exe\u2066 review " });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("invoice_fdp.exe review", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("purpose").GetString());
        await using var db = api.Database.Factory.CreateDbContext();
        Assert.Equal("invoice_fdp.exe review", (await db.Holds.SingleAsync(h => h.SlotId == slot.Id)).Purpose);
    }

    [Fact]
    public async Task QaRelease_WithANulInTheNote_Answers400_AndTheHoldStays()
    {
        var slot = await api.AddSlotAsync();
        var hold = await Matrix.AddHoldAsync(api.Database.Factory, slot.Id, TestUsers.Devon, DateTime.UtcNow);
        using var qa = await api.ClientAsync(TestUsers.Quinn);

        var response = await qa.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/release", new { holdId = hold.Id, outcome = "Fail", note = "crashed at\u0000checkout" });

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Contains("The note contains a NUL character", body);
        await using var db = api.Database.Factory.CreateDbContext();
        Assert.Null((await db.Holds.SingleAsync(h => h.Id == hold.Id)).ReleasedAt);
    }

    [Fact]
    public async Task QaRelease_WithLineBreaksAndAnOverrideInTheNote_KeepsTheLinesAndDropsTheOverride()
    {
        var slot = await api.AddSlotAsync();
        var hold = await Matrix.AddHoldAsync(api.Database.Factory, slot.Id, TestUsers.Devon, DateTime.UtcNow);
        using var qa = await api.ClientAsync(TestUsers.Quinn);

        var response = await qa.PostAsJsonAsync($"/api/v1/slots/{slot.Id}/release", new { holdId = hold.Id, outcome = "Fail", note = "step 1 ok\r\nstep 2 \u202Eliaf\r\n" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var db = api.Database.Factory.CreateDbContext();
        Assert.Equal("step 1 ok\nstep 2 liaf", (await db.Holds.SingleAsync(h => h.Id == hold.Id)).ReleaseNote);
    }
}

using System.Net;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace DeployPortal.Web.Tests.Components;

/// <summary>The history's CSV export through the real portal: the page's filters, signed-in people only.</summary>
public sealed class HistoryExportTests : IAsyncLifetime
{
    private TestDatabase _database = default!;
    private PortalHost _host = default!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        _host = new PortalHost(_database);
        _host.Start();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Export_GivesTheFilteredView_AsCsv_WithSignInsOnlyWhenAsked()
    {
        using var client = await _host.DevSignedInClientAsync("dana");
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var slots = scope.ServiceProvider.GetRequiredService<HoldActions>();
            var board = scope.ServiceProvider.GetRequiredService<BoardQueries>();
            var qa1 = (await board.GetBoardAsync()).Single(s => s.Name == "qa-1");
            Assert.True((await slots.ClaimAsync(TestUsers.Dana, new ClaimRequest(qa1.Id, "=cmd|' /C calc'!A0, checkout", null))).Succeeded);
        }

        var work = await client.GetAsync("/history.csv?slot=qa-1");
        var everything = await client.GetStringAsync("/history.csv?kinds=all");

        Assert.Equal(HttpStatusCode.OK, work.StatusCode);
        Assert.Equal("text/csv", work.Content.Headers.ContentType?.MediaType);
        var lines = (await work.Content.ReadAsStringAsync()).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("at_utc,who,what,slot,details", lines[0]);
        var claim = Assert.Single(lines[1..]);
        Assert.Contains(",Dana Developer,claim,qa-1,", claim);
        Assert.DoesNotContain(",=cmd", claim); // free text never starts a cell as a formula
        Assert.Contains("sign-in", everything);
        Assert.DoesNotContain("sign-in", await client.GetStringAsync("/history.csv"));
        using var anonymous = _host.CreateLoopbackClient();
        Assert.Equal(HttpStatusCode.Redirect, (await anonymous.GetAsync("/history.csv")).StatusCode);
    }
}

using System.Diagnostics;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>
/// Keeps the benchmarks' circuit load generator honest: the server must count its circuits exactly as it
/// counts real browser tabs (the circuit limit's counter, the slot-change subscriptions a board makes only
/// once interactive), and a slot change must reach its circuits and the browser alike.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class LoadGeneratorTests(BrowserFixture browser) : BrowserTest(browser)
{
    [Fact]
    public async Task GeneratedCircuits_AreCountedLikeBrowserTabs_AndReceiveSlotChanges()
    {
        var notifier = Host.Services.GetRequiredService<SlotChangeNotifier>();
        var counter = Host.Services.GetRequiredService<CircuitCounter>();
        var tab = await Browser.SignInAsync(Portal, "viewer");
        await WaitForAsync(() => notifier.SubscriberCount == LoadGenProcess.SubscriptionsPerBoard);
        Assert.Equal(1, counter.OpenFor("dev:viewer"));

        await using (var load = LoadGenProcess.Start(Portal, circuits: 5, concurrency: 5))
        {
            var opened = await load.ReplyAsync("opened", TimeSpan.FromMinutes(2));
            Assert.True(opened.GetProperty("opened").GetInt32() == 5, opened.ToString());
            await WaitForAsync(() => notifier.SubscriberCount == 6 * LoadGenProcess.SubscriptionsPerBoard);
            Assert.Equal(6, counter.OpenFor("dev:viewer"));

            await load.CommandAsync("watch generator check 7f3a", "armed", TimeSpan.FromSeconds(30));
            await using (var scope = Host.Services.CreateAsyncScope())
            {
                var slot = (await scope.ServiceProvider.GetRequiredService<BoardQueries>().GetBoardAsync()).First(s => s.IsFree);
                var claimed = await scope.ServiceProvider.GetRequiredService<HoldActions>()
                    .ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "generator check 7f3a", null));
                Assert.True(claimed.Succeeded, claimed.Failure?.Message);
            }

            var seen = await load.CommandAsync("await 30000", "seen", TimeSpan.FromMinutes(1));
            Assert.Equal(5, seen.GetProperty("seen").GetInt32());
            await Expect(tab.GetByText("generator check 7f3a")).ToBeVisibleAsync();
        }

        // Closing them (with the disconnect beacon, as a closing tab sends) ends them on the server at once.
        await WaitForAsync(() => notifier.SubscriberCount == LoadGenProcess.SubscriptionsPerBoard && counter.OpenFor("dev:viewer") == 1);
    }

    /// <summary>Polls server-side counters that raise no event.</summary>
    private static async Task WaitForAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "timed out waiting for the server's circuit counts");
            await Task.Delay(50);
        }
    }
}

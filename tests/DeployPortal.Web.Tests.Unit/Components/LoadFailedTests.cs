using Bunit;
using DeployPortal.Web.Components.Pages.Deployments;
using DeployPortal.Web.Components.Pages.Profile;
using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Components;

/// <summary>Panels that read the database on opening say what went wrong when it does not answer, and load on a retry.</summary>
public sealed class LoadFailedTests : PortalComponentTest
{
    private SwitchableFactory _database = default!;

    /// <summary>The page's database goes down (the harness exists once the test has started).</summary>
    private void DatabaseDown()
    {
        _database = new SwitchableFactory(Harness.Database.Factory) { Down = true };
        PageDatabase = _database;
    }

    [Fact]
    public void MyQueueEntries_WhenTheDatabaseFails_ShowsTheError_AndTryAgainClearsIt()
    {
        DatabaseDown();
        SignInAs(TestUsers.Dana);

        var cut = Render<MyQueueEntries>();

        cut.WaitForAssertion(() => Assert.Contains("Your queue entries could not be loaded: the database did not answer.",
            cut.Find("[data-testid=queue-entries-error]").TextContent));
        _database.Down = false;
        cut.Find("[data-testid=queue-entries-error-retry]").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=queue-entries-error]")));
    }

    [Fact]
    public void NotificationSettings_WhenTheDatabaseFails_ShowsTheError_AndTryAgainShowsTheSwitches()
    {
        DatabaseDown();
        SignInAs(TestUsers.Dana);

        var cut = Render<NotificationSettings>();

        cut.WaitForAssertion(() => Assert.Contains("Your notification settings could not be loaded: the database did not answer.",
            cut.Find("[data-testid=notification-settings-error]").TextContent));
        Assert.Empty(cut.FindAll("[data-testid^=notify-]"));
        _database.Down = false;
        cut.Find("[data-testid=notification-settings-error-retry]").Click();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid^=notify-]")));
        Assert.Empty(cut.FindAll("[data-testid=notification-settings-error]"));
    }

    [Fact]
    public void DeploymentPage_WhenTheDatabaseFails_ShowsTheError_NotAnEndlessSpinner_AndTryAgainLoads()
    {
        DatabaseDown();
        SignInAs(TestUsers.Dana);

        var cut = Render<DeploymentPage>(p => p.Add(x => x.Id, 42));

        cut.WaitForAssertion(() => Assert.Contains("Deployment #42 could not be loaded: the database did not answer.",
            cut.Find("[data-testid=deployment-load-error]").TextContent));
        Assert.Empty(cut.FindAll(".mud-progress-linear"));
        _database.Down = false;
        cut.Find("[data-testid=deployment-load-error-retry]").Click();
        cut.WaitForAssertion(() => Assert.Contains("There is no deployment #42.", cut.Markup));
        Assert.Empty(cut.FindAll("[data-testid=deployment-load-error]"));
    }

    /// <summary>The test database, or an outage while <see cref="Down"/> is set.</summary>
    private sealed class SwitchableFactory(IDbContextFactory<PortalDb> inner) : IDbContextFactory<PortalDb>
    {
        public volatile bool Down;

        public PortalDb CreateDbContext() => Down ? throw new InvalidOperationException("database is down") : inner.CreateDbContext();
    }
}

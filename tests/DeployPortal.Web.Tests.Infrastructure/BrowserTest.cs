namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>
/// A browser test's portal: a fresh database and portal for each test on the shared Chromium, and the pages closed
/// before the portal stops (an open circuit keeps Kestrel waiting for its connection at shutdown). A test class says
/// which portal it needs by overriding <see cref="CreateHost"/>.
/// </summary>
public abstract class BrowserTest(BrowserFixture browser) : IAsyncLifetime
{
    protected BrowserFixture Browser => browser;

    protected TestDatabase Database { get; private set; } = default!;

    protected PortalHost Host { get; private set; } = default!;

    /// <summary>The portal's address, for <see cref="BrowserFixture.SignInAsync"/>.</summary>
    protected Uri Portal { get; private set; } = default!;

    /// <summary>The portal under test: by default a plain one with the development sign-in.</summary>
    protected virtual PortalHost CreateHost(TestDatabase database) => new(database);

    public virtual async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync(Data.DatabaseProvider.Sqlite);
        Host = CreateHost(Database);
        Portal = Host.Start();
    }

    public virtual async Task DisposeAsync()
    {
        await browser.CloseContextsAsync();
        await Host.DisposeAsync();
        await Database.DisposeAsync();
    }
}

using DeployPortal.Web.Data;
using Npgsql;

namespace DeployPortal.Web.Tests.Postgres;

public sealed class PortalConnectionStringTests
{
    [Fact]
    public void SkipsTheResetAndPreparesStatements_ByDefault()
    {
        var built = new NpgsqlConnectionStringBuilder(DataExtensions.PortalConnectionString("Host=db;Database=portal;Username=portal"));

        Assert.True(built.NoResetOnClose);
        Assert.Equal(64, built.MaxAutoPrepare);
        Assert.Equal("db", built.Host);
        Assert.Equal("portal", built.Database);
    }

    [Fact]
    public void KeepsWhatTheConfiguredStringSays()
    {
        var built = new NpgsqlConnectionStringBuilder(DataExtensions.PortalConnectionString("Host=db;No Reset On Close=false;Max Auto Prepare=0"));

        Assert.False(built.NoResetOnClose);
        Assert.Equal(0, built.MaxAutoPrepare);
    }
}

using System.Security.Cryptography;
using System.Text;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>Personal access tokens written straight into a database, for portals running as their own processes.</summary>
public static class TestTokens
{
    /// <summary>A day-long token of Dana (as the development sign-in knows her) with the Developer role; returns its secret.</summary>
    public static async Task<string> AddDanaAsync(IDbContextFactory<PortalDb> factory)
    {
        var secret = "dp_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var db = factory.CreateDbContext();
        db.AccessTokens.Add(new PersonalAccessToken
        {
            OwnerId = "dev:dana",
            OwnerName = "Dana Developer",
            Roles = "Developer",
            Name = "ci",
            Prefix = secret[..10],
            Hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))),
            CreatedAt = DateTime.UtcNow,
            ExpiresAt = DateTime.UtcNow.AddDays(1),
        });
        await db.SaveChangesAsync();
        return secret;
    }
}

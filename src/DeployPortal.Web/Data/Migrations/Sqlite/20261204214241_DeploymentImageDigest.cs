using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeployPortal.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DeploymentImageDigest : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ImageDigest",
                table: "Deployments",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ImageDigest",
                table: "Deployments");
        }
    }
}

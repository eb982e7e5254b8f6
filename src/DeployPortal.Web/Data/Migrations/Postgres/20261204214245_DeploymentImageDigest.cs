using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeployPortal.Web.Data.Migrations.Postgres
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
                type: "text",
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

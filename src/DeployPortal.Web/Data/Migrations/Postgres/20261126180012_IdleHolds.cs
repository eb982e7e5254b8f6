using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeployPortal.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class IdleHolds : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "LastActivityAt",
                table: "Holds",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified));

            migrationBuilder.AddColumn<DateTime>(
                name: "SleepingSince",
                table: "Holds",
                type: "timestamp with time zone",
                nullable: true);

            // Holds that existed before activity was recorded count as active since they began, not as idle forever.
            migrationBuilder.Sql("UPDATE \"Holds\" SET \"LastActivityAt\" = \"Since\"");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LastActivityAt",
                table: "Holds");

            migrationBuilder.DropColumn(
                name: "SleepingSince",
                table: "Holds");
        }
    }
}

using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeployPortal.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ImageWait : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Deployments_QueuedTwin",
                table: "Deployments");

            migrationBuilder.AddColumn<DateTime>(
                name: "ImageCheckedAt",
                table: "Deployments",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "ImageChecks",
                table: "Deployments",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTime>(
                name: "ImageWaitUntil",
                table: "Deployments",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Deployments_QueuedTwin",
                table: "Deployments",
                columns: new[] { "SlotId", "App", "Branch", "RequestedById" },
                unique: true,
                filter: "\"State\" IN ('Queued', 'WaitingForImage') AND \"PinnedCommit\" = FALSE");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Deployments_QueuedTwin",
                table: "Deployments");

            migrationBuilder.DropColumn(
                name: "ImageCheckedAt",
                table: "Deployments");

            migrationBuilder.DropColumn(
                name: "ImageChecks",
                table: "Deployments");

            migrationBuilder.DropColumn(
                name: "ImageWaitUntil",
                table: "Deployments");

            migrationBuilder.CreateIndex(
                name: "IX_Deployments_QueuedTwin",
                table: "Deployments",
                columns: new[] { "SlotId", "App", "Branch", "RequestedById" },
                unique: true,
                filter: "\"State\" = 'Queued' AND \"PinnedCommit\" = FALSE");
        }
    }
}

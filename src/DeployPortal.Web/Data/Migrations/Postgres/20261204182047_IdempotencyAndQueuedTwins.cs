using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace DeployPortal.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class IdempotencyAndQueuedTwins : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "IdempotencyRecords",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    OwnerId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    RequestHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Status = table.Column<int>(type: "integer", nullable: true),
                    ContentType = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Location = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true),
                    Body = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_IdempotencyRecords", x => x.Id);
                });

            // Identical queued deployments made before this index (double submits) would refuse it: keep the first of each.
            migrationBuilder.Sql("""
                UPDATE "Deployments" SET "State" = 'Cancelled', "FinishedAt" = "CreatedAt",
                    "FailureReason" = 'Cancelled on upgrade: the same deployment was already queued.'
                WHERE "State" = 'Queued' AND "PinnedCommit" = FALSE AND "Id" NOT IN (
                    SELECT MIN("Id") FROM "Deployments" WHERE "State" = 'Queued' AND "PinnedCommit" = FALSE
                    GROUP BY "SlotId", "App", "Branch", "RequestedById")
                """);

            migrationBuilder.CreateIndex(
                name: "IX_Deployments_QueuedTwin",
                table: "Deployments",
                columns: new[] { "SlotId", "App", "Branch", "RequestedById" },
                unique: true,
                filter: "\"State\" = 'Queued' AND \"PinnedCommit\" = FALSE");

            migrationBuilder.CreateIndex(
                name: "IX_IdempotencyRecords_CreatedAt",
                table: "IdempotencyRecords",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_IdempotencyRecords_OwnerId_Key",
                table: "IdempotencyRecords",
                columns: new[] { "OwnerId", "Key" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "IdempotencyRecords");

            migrationBuilder.DropIndex(
                name: "IX_Deployments_QueuedTwin",
                table: "Deployments");
        }
    }
}

using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeployPortal.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ElasticSlots : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Elastic",
                table: "Slots",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTime>(
                name: "RemovedAt",
                table: "Slots",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ElasticBudget",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    MaxSlots = table.Column<int>(type: "integer", nullable: true),
                    ChangedByName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ElasticBudget", x => x.Id);
                });

            migrationBuilder.InsertData(
                table: "ElasticBudget",
                columns: new[] { "Id", "ChangedAt", "ChangedByName", "MaxSlots" },
                values: new object[] { 1, null, null, null });

            migrationBuilder.CreateIndex(
                name: "IX_Slots_Elastic",
                table: "Slots",
                column: "Elastic");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ElasticBudget");

            migrationBuilder.DropIndex(
                name: "IX_Slots_Elastic",
                table: "Slots");

            migrationBuilder.DropColumn(
                name: "Elastic",
                table: "Slots");

            migrationBuilder.DropColumn(
                name: "RemovedAt",
                table: "Slots");
        }
    }
}

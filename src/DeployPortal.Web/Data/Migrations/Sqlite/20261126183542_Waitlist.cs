using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeployPortal.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Waitlist : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "RemindedFor",
                table: "Holds",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "WaitlistEntries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    SlotId = table.Column<int>(type: "INTEGER", nullable: true),
                    UserId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    UserName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    App = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    Branch = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Purpose = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    JoinedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    EndedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    EndedByName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    HoldId = table.Column<long>(type: "INTEGER", nullable: true),
                    DeploymentId = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WaitlistEntries", x => x.Id);
                    table.ForeignKey(
                        name: "FK_WaitlistEntries_Slots_SlotId",
                        column: x => x.SlotId,
                        principalTable: "Slots",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Waitlist_WaitingPerUserApp",
                table: "WaitlistEntries",
                columns: new[] { "UserId", "App" },
                unique: true,
                filter: "\"State\" = 'Waiting'");

            migrationBuilder.CreateIndex(
                name: "IX_WaitlistEntries_SlotId",
                table: "WaitlistEntries",
                column: "SlotId");

            migrationBuilder.CreateIndex(
                name: "IX_WaitlistEntries_State_JoinedAt_Id",
                table: "WaitlistEntries",
                columns: new[] { "State", "JoinedAt", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "WaitlistEntries");

            migrationBuilder.DropColumn(
                name: "RemindedFor",
                table: "Holds");
        }
    }
}

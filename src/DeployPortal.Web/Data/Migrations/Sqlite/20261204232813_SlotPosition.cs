using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeployPortal.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SlotPosition : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Position",
                table: "Slots",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Position",
                table: "Slots");
        }
    }
}

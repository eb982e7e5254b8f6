using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeployPortal.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class HoldLastActivityKind : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "LastActivityKind",
                table: "Holds",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "Claim"); // the holds open before this migration: their last sign of use is unknown
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LastActivityKind",
                table: "Holds");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BulkCampaigns.Data.Migrations
{
    /// <summary>
    /// Segments on SQLite read folded variables from the recipient's own row, written by the import with it, instead of
    /// the side table a second pass over the group built. Both are derived: the stamps are cleared, so each group is
    /// folded again (in place) the first time a segment reads it.
    /// </summary>
    public partial class SegmentsFoldedOnRecipients : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SegmentValues");

            migrationBuilder.AddColumn<byte[]>(
                name: "Folded",
                table: "Recipients",
                type: "BLOB",
                nullable: true);

            migrationBuilder.Sql("DELETE FROM SegmentStamps;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Folded",
                table: "Recipients");

            migrationBuilder.CreateTable(
                name: "SegmentValues",
                columns: table => new
                {
                    RecipientId = table.Column<long>(type: "INTEGER", nullable: false),
                    Address = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Folded = table.Column<byte[]>(type: "BLOB", nullable: false),
                    GroupId = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SegmentValues", x => x.RecipientId);
                    table.ForeignKey(
                        name: "FK_SegmentValues_Groups_GroupId",
                        column: x => x.GroupId,
                        principalTable: "Groups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_SegmentValues_GroupId",
                table: "SegmentValues",
                column: "GroupId");

            migrationBuilder.Sql("DELETE FROM SegmentStamps;");
        }
    }
}

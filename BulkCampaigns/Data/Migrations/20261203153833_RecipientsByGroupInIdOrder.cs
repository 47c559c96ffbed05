using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BulkCampaigns.Data.Migrations
{
    /// <summary>
    /// SQLite: a group's recipients in ID order, so a segment's members are paged without sorting the whole group (the
    /// segment rows' own table had this order before SegmentsFoldedOnRecipients).
    /// </summary>
    public partial class RecipientsByGroupInIdOrder : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_Recipients_GroupId",
                table: "Recipients",
                column: "GroupId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Recipients_GroupId",
                table: "Recipients");
        }
    }
}

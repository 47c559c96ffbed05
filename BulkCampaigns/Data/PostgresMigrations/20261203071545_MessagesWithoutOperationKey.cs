using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BulkCampaigns.Data.PostgresMigrations
{
    /// <inheritdoc />
    public partial class MessagesWithoutOperationKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Messages_Operations_OperationId",
                table: "Messages");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddForeignKey(
                name: "FK_Messages_Operations_OperationId",
                table: "Messages",
                column: "OperationId",
                principalTable: "Operations",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}

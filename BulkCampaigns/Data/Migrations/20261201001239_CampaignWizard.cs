using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BulkCampaigns.Data.Migrations
{
    /// <inheritdoc />
    public partial class CampaignWizard : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_CampaignDrafts_Owner",
                table: "CampaignDrafts");

            migrationBuilder.AddColumn<bool>(
                name: "IsTest",
                table: "Operations",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "ChannelPrices",
                columns: table => new
                {
                    Channel = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    PricePerSegment = table.Column<decimal>(type: "TEXT", nullable: false),
                    Currency = table.Column<string>(type: "TEXT", maxLength: 3, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChannelPrices", x => x.Channel);
                });

            migrationBuilder.CreateIndex(
                name: "IX_CampaignDrafts_Owner",
                table: "CampaignDrafts",
                column: "Owner");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ChannelPrices");

            migrationBuilder.DropIndex(
                name: "IX_CampaignDrafts_Owner",
                table: "CampaignDrafts");

            migrationBuilder.DropColumn(
                name: "IsTest",
                table: "Operations");

            migrationBuilder.CreateIndex(
                name: "IX_CampaignDrafts_Owner",
                table: "CampaignDrafts",
                column: "Owner",
                unique: true);
        }
    }
}

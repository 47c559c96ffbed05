using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BulkCampaigns.Data.Migrations
{
    /// <inheritdoc />
    public partial class SimulatorReportMark : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "SimulatorReportMarks",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false),
                    ReportedThroughId = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SimulatorReportMarks", x => x.Id);
                });

            migrationBuilder.InsertData(
                table: "SimulatorReportMarks",
                columns: new[] { "Id", "ReportedThroughId" },
                values: new object[] { 1, 0L });

            // Reports already made stay made: the mark starts before the first unreported message.
            migrationBuilder.Sql("""
                UPDATE SimulatorReportMarks SET ReportedThroughId = COALESCE(
                    (SELECT MIN(Id) - 1 FROM SimulatorMessages WHERE Reported = 0),
                    (SELECT MAX(Id) FROM SimulatorMessages), 0)
                WHERE Id = 1;
                """);

            migrationBuilder.DropIndex(
                name: "IX_SimulatorMessages_Pending",
                table: "SimulatorMessages");

            // SQLite drops a column in place (3.35+); EF's table rebuild would have to turn foreign keys off outside the transaction.
            migrationBuilder.Sql("ALTER TABLE SimulatorMessages DROP COLUMN Reported;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SimulatorReportMarks");

            migrationBuilder.AddColumn<bool>(
                name: "Reported",
                table: "SimulatorMessages",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateIndex(
                name: "IX_SimulatorMessages_Pending",
                table: "SimulatorMessages",
                column: "ReportDueAt",
                filter: "Reported = 0");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BulkCampaigns.Data.PostgresMigrations
{
    /// <inheritdoc />
    public partial class SegmentsOnPostgres : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The rows are derived (rebuilt from Recipients when a group's stamp is missing) and there is no cast from
            // bytea to jsonb: empty the table and the stamps, then change the column's type.
            migrationBuilder.Sql("""
                DELETE FROM "SegmentStamps";
                DELETE FROM "SegmentValues";
                ALTER TABLE "SegmentValues" ALTER COLUMN "Folded" TYPE jsonb USING '{}'::jsonb;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DELETE FROM "SegmentStamps";
                DELETE FROM "SegmentValues";
                ALTER TABLE "SegmentValues" ALTER COLUMN "Folded" TYPE bytea USING ''::bytea;
                """);
        }
    }
}

using BulkCampaigns.Tests.Content;
using BulkCampaigns.Tests.Infrastructure;
using BulkCampaigns.Tests.Suppressions;

namespace BulkCampaigns.Tests.Postgres;

// Whole existing test classes run again on PostgreSQL: the class takes its app as a constructor argument, and a
// subclass hands it a PostgresAppFactory. (Phase 2 of PostgreSQL support does this for every database test class, or
// runs the suite with BULKCAMPAIGNS_TEST_PROVIDER=Postgres.)

public sealed class SuppressionsApiOnPostgresTests(PostgresAppFactory app) : SuppressionsApiTests(app), IClassFixture<PostgresAppFactory>;

public sealed class ContentApiOnPostgresTests(PostgresAppFactory app) : ContentApiTests(app), IClassFixture<PostgresAppFactory>;

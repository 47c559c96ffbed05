using System.Globalization;
using System.Text;
using BulkCampaigns.Components.Shared;
using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Suppressions;

/// <summary>Adds and removes opted-out addresses. Addresses are E.164; callers normalize first.</summary>
public sealed class SuppressionService(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    /// <summary>Adds the address unless it is already suppressed; returns true when it was added.</summary>
    public async Task<bool> AddAsync(string e164, string? reason, string source, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var added = await db.Database.ExecuteSqlInterpolatedAsync(
            $"""INSERT INTO "Suppressions" ("Address", "Reason", "Source", "CreatedAt") VALUES ({e164}, {reason}, {source}, {clock.GetUtcNow()}) ON CONFLICT ("Address") DO NOTHING""", ct);
        return added > 0;
    }

    /// <summary>Removes the address; returns true when it was suppressed.</summary>
    public async Task<bool> RemoveAsync(string e164, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<Suppression>().Where(s => s.Address == e164).ExecuteDeleteAsync(ct) > 0;
    }

    public async Task<bool> IsSuppressedAsync(string e164, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<Suppression>().AnyAsync(s => s.Address == e164, ct);
    }

    /// <summary>Suppressions in the order they were added, after <paramref name="afterId"/>, optionally by address prefix.</summary>
    public async Task<List<Suppression>> ListAsync(long afterId, int take, string prefix = "+", CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Set<Suppression>().AsNoTracking().Where(s => s.Id > afterId);
        if (prefix.Length > 1)
        {
            var upper = prefix + ":";
            query = query.Where(s => string.Compare(s.Address, prefix) >= 0 && string.Compare(s.Address, upper) < 0);
        }
        return await query.OrderBy(s => s.Id).Take(take).ToListAsync(ct);
    }

    public async Task<Suppression?> FindAsync(string e164, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<Suppression>().AsNoTracking().FirstOrDefaultAsync(s => s.Address == e164, ct);
    }

    public async Task<long> CountAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<Suppression>().LongCountAsync(ct);
    }

    /// <summary>
    /// Adds every address of a suppression CSV (address column detected like a recipient import; an optional
    /// <c>reason</c> column). Bad rows are reported with their line and reason, good ones go in, already
    /// suppressed ones are counted. A file that is not CSV or has no address column adds nothing.
    /// </summary>
    public async Task<SuppressionImportResult> ImportCsvAsync(Stream csv, string defaultRegion, CancellationToken ct = default)
    {
        using var memory = new MemoryStream();
        await csv.CopyToAsync(memory, ct);
        var bytes = memory.ToArray();
        var layout = CsvLayout.Inspect(bytes.AsSpan(0, Math.Min(bytes.Length, CsvLayout.SampleBytes)), bytes.Length <= CsvLayout.SampleBytes, 0);
        if (layout.Error is not null)
        {
            return SuppressionImportResult.Failed(layout.Error);
        }
        var (addressIndex, _, error) = RecipientRowValidator.ResolveColumns(layout.Headers, null, null);
        if (error is not null)
        {
            return SuppressionImportResult.Failed(error);
        }
        var reasonIndex = layout.Headers.ToList().FindIndex(h => string.Equals(h, "reason", StringComparison.OrdinalIgnoreCase));
        var rejected = new List<RowRejection>();
        long rows = 0, added = 0, already = 0;
        var now = clock.GetUtcNow();
        try
        {
            using var reader = new RecipientCsvReader(new MemoryStream(bytes), layout.Delimiter);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await db.Database.OpenConnectionAsync(ct); // through EF, so the app's pragmas apply
            var connection = db.Database.GetDbConnection();
            await using var tx = await connection.BeginTransactionAsync(ct);
            await using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            // Quoted names and @parameters: one statement for SQLite and PostgreSQL.
            insert.CommandText = """INSERT INTO "Suppressions" ("Address", "Reason", "Source", "CreatedAt") VALUES (@a, @r, 'import', @now) ON CONFLICT ("Address") DO NOTHING""";
            insert.Parameters.Add(Parameter(insert, "@a", DbType.String, null));
            insert.Parameters.Add(Parameter(insert, "@r", DbType.String, null));
            insert.Parameters.Add(Parameter(insert, "@now", DbType.DateTimeOffset, now));
            while (reader.TryRead(out var record))
            {
                rows++;
                var fields = record.Fields;
                if (fields.Length != reader.Header.Length)
                {
                    rejected.Add(new RowRejection(record.Row, record.Line, null, null,
                        $"has {fields.Length} values but the header has {reader.Header.Length} columns"));
                    continue;
                }
                var raw = fields[addressIndex];
                if (!PhoneAddress.TryNormalize(raw.Trim().TrimStart('\''), defaultRegion, out var e164, out var reason))
                {
                    rejected.Add(new RowRejection(record.Row, record.Line, reader.Header[addressIndex], raw, reason));
                    continue;
                }
                insert.Parameters["@a"].Value = e164;
                insert.Parameters["@r"].Value = reasonIndex >= 0 && fields[reasonIndex].Trim() is { Length: > 0 } why ? (why.Length > 500 ? why[..500] : why) : DBNull.Value;
                if (await insert.ExecuteNonQueryAsync(ct) > 0)
                {
                    added++;
                }
                else
                {
                    already++;
                }
            }
            await tx.CommitAsync(ct);
        }
        catch (DecoderFallbackException)
        {
            return SuppressionImportResult.Failed("This file is not UTF-8 text. In your spreadsheet choose 'Save as CSV UTF-8' and upload that file.");
        }
        return new SuppressionImportResult(null, rows, added, already, rejected.Count, rejected.Take(100).ToList());
    }

    private static DbParameter Parameter(DbCommand command, string name, DbType type, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        return parameter;
    }
}

public sealed record SuppressionImportResult(string? Error, long RowsRead, long Added, long AlreadySuppressed, long Rejected, IReadOnlyList<RowRejection> Errors)
{
    public static SuppressionImportResult Failed(string error) => new(error, 0, 0, 0, 0, []);

    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"{Added:N0} added, {AlreadySuppressed:N0} already suppressed, {Plural.Count(Rejected, "row", "rows")} rejected.");
}

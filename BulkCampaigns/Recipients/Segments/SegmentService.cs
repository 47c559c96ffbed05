using System.Globalization;
using System.Text.Json;
using BulkCampaigns.Api;
using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Recipients.Segments;

/// <summary>A segment as pages and the API show it.</summary>
public sealed record SegmentView(string Id, long Key, string Name, IReadOnlyList<string> GroupIds, string FilterJson,
    long RecipientCount, long Suppressed, DateTimeOffset? CountedAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>What a marketer or a client asks a segment to be, checked whole: every problem named by its path.</summary>
public sealed record SegmentDraft(string Name, IReadOnlyList<long> GroupIds, SegmentFilter Filter, string FilterJson);

public enum DeleteSegmentResult { Deleted, NotFound, InUse }

/// <summary>Segments: checking, saving, counting and listing them; the builder page and <c>/v1/Segments</c> share it.</summary>
public sealed class SegmentService(IDbContextFactory<AppDbContext> dbFactory, DatabaseConnection database, ISegmentStore store, TimeProvider clock)
{
    public const int MaxNameLength = 200;
    public const int MaxGroups = 100;

    private DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public CompiledFilter Compile(SegmentFilter filter) => store.Sql.Compile(filter, Today);

    /// <summary>
    /// Reads and checks a draft: the name (when <paramref name="nameRequired"/>), the groups (they must exist) and the
    /// filter (its shape, and that each variable is one the chosen groups have). Null, with the problems, when bad.
    /// </summary>
    public async Task<SegmentDraft?> CheckAsync(string? name, IReadOnlyList<string?>? groupIds, JsonElement? filter, ApiValidation validation, bool nameRequired, CancellationToken ct)
    {
        if (nameRequired && string.IsNullOrWhiteSpace(name))
        {
            validation.Add("name", "Give the segment a name.");
        }
        else if (name is { } n && n.Trim().Length > MaxNameLength)
        {
            validation.Add("name", $"The name is longer than {MaxNameLength} characters.");
        }
        var groups = new List<long>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            if (groupIds is { Count: > MaxGroups })
            {
                validation.Add("groupIds", $"A segment takes at most {MaxGroups} groups.");
            }
            else
            {
                for (var i = 0; i < (groupIds?.Count ?? 0); i++)
                {
                    if (!PublicId.TryDecode(PublicId.Group, groupIds![i], out var id) || !await db.Set<Group>().AnyAsync(g => g.Id == id, ct))
                    {
                        validation.Add($"groupIds[{i}]", $"No group {groupIds[i]}.");
                    }
                    else if (!groups.Contains(id))
                    {
                        groups.Add(id);
                    }
                }
            }
            var keyLists = await db.Set<Group>().AsNoTracking().Where(g => groups.Count == 0 || groups.Contains(g.Id)).Select(g => g.AttributeKeysJson).ToListAsync(ct);
            foreach (var list in keyLists)
            {
                keys.UnionWith(JsonSerializer.Deserialize<List<string>>(list) ?? []);
            }
        }
        var parsed = SegmentFilterReader.Read(filter, "filter", validation);
        if (parsed is not null)
        {
            CheckVariables(parsed, "filter", keys, validation);
        }
        if (!validation.IsValid || parsed is null)
        {
            return null;
        }
        var json = filter is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } f ? f.GetRawText() : "{\"all\":[]}";
        return new SegmentDraft(name?.Trim() ?? "", groups, parsed, json);
    }

    /// <summary>A variable no chosen group has is almost always a typo ("Plan" for "plan"): say so beside it.</summary>
    private static void CheckVariables(SegmentFilter filter, string path, HashSet<string> keys, ApiValidation validation)
    {
        switch (filter)
        {
            case AllOf all:
                for (var i = 0; i < all.Filters.Count; i++)
                {
                    CheckVariables(all.Filters[i], $"{path}.all[{i}]", keys, validation);
                }
                break;
            case AnyOf any:
                for (var i = 0; i < any.Filters.Count; i++)
                {
                    CheckVariables(any.Filters[i], $"{path}.any[{i}]", keys, validation);
                }
                break;
            case NotOf not:
                CheckVariables(not.Filter, $"{path}.not", keys, validation);
                break;
            case VariableCondition v when !keys.Contains(v.Variable):
                var near = keys.FirstOrDefault(k => string.Equals(k, v.Variable, StringComparison.OrdinalIgnoreCase));
                validation.Add($"{path}.variable", near is not null
                    ? $"No chosen group has a variable '{v.Variable}'; did you mean '{near}'? Names are compared exactly."
                    : keys.Count == 0 ? $"The chosen groups have no variables, so none is named '{v.Variable}'."
                    : $"No chosen group has a variable '{v.Variable}'; they have {string.Join(", ", keys.Order(StringComparer.Ordinal).Take(20))}{(keys.Count > 20 ? ", …" : "")}.");
                break;
        }
    }

    /// <summary>Distinct matching addresses now, and how many of them are suppressed.</summary>
    public Task<(long Count, long Suppressed)> CountAsync(SegmentDraft draft, CancellationToken ct = default) =>
        store.CountAsync(draft.GroupIds, store.Sql.Compile(draft.Filter, Today, hoist: true), ct);

    public Task<List<SegmentMember>> SampleAsync(SegmentDraft draft, int take, CancellationToken ct = default) =>
        store.PageAsync(draft.GroupIds, Compile(draft.Filter), 0, take, ct);

    public Task<List<(string Value, long Count)>> TopValuesAsync(IReadOnlyList<long> groupIds, string variable, int take = 10, CancellationToken ct = default) =>
        store.TopValuesAsync(groupIds, variable, take, ct);

    public async Task<SegmentView> CreateAsync(SegmentDraft draft, CancellationToken ct = default)
    {
        var (count, suppressed) = await CountAsync(draft, ct);
        var now = clock.GetUtcNow();
        var segment = new Segment
        {
            Name = draft.Name, GroupIdsJson = JsonSerializer.Serialize(draft.GroupIds), FilterJson = draft.FilterJson,
            RecipientCount = count, Suppressed = suppressed, CountedAt = now, CreatedAt = now, UpdatedAt = now,
        };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.Add(segment);
        await db.SaveChangesAsync(ct);
        return ToView(segment);
    }

    public async Task<SegmentView?> UpdateAsync(long id, SegmentDraft draft, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var segment = await db.Set<Segment>().FirstOrDefaultAsync(s => s.Id == id, ct);
        if (segment is null)
        {
            return null;
        }
        var (count, suppressed) = await CountAsync(draft, ct);
        var now = clock.GetUtcNow();
        segment.Name = draft.Name;
        segment.GroupIdsJson = JsonSerializer.Serialize(draft.GroupIds);
        segment.FilterJson = draft.FilterJson;
        segment.RecipientCount = count;
        segment.Suppressed = suppressed;
        segment.CountedAt = now;
        segment.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return ToView(segment);
    }

    public async Task<SegmentView?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<Segment>().AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct) is { } s ? ToView(s) : null;
    }

    /// <summary>The stored segment as a draft again (its groups that still exist, its filter re-read), or null.</summary>
    public async Task<SegmentDraft?> LoadAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var segment = await db.Set<Segment>().AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        if (segment is null)
        {
            return null;
        }
        var wanted = JsonSerializer.Deserialize<List<long>>(segment.GroupIdsJson) ?? [];
        var existing = await db.Set<Group>().Where(g => wanted.Contains(g.Id)).Select(g => g.Id).ToListAsync(ct);
        var validation = new ApiValidation();
        var filter = SegmentFilterReader.Read(segment.FilterJson, "filter", validation) ?? SegmentFilter.Everyone;
        // Every chosen group deleted: nothing matches (not "every group", which an empty list means).
        return new SegmentDraft(segment.Name, existing, wanted.Count > 0 && existing.Count == 0 ? new AnyOf([]) : filter, segment.FilterJson);
    }

    /// <summary>The operation hook: a saved segment (by its public id) as an audience source, or null when there is none.</summary>
    public async Task<SegmentSource?> ResolveAsync(string? publicId, CancellationToken ct = default) =>
        PublicId.TryDecode(PublicId.Segment, publicId, out var id) && await LoadAsync(id, ct) is { } draft
            ? new SegmentSource(id, draft.GroupIds, store.Sql.Compile(draft.Filter, Today, hoist: true))
            : null;

    /// <summary>Counts a saved segment now and keeps the figure as its last count.</summary>
    public async Task<SegmentView?> RecountAsync(long id, CancellationToken ct = default)
    {
        if (await LoadAsync(id, ct) is not { } draft)
        {
            return null;
        }
        var (count, suppressed) = await CountAsync(draft, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Set<Segment>().Where(s => s.Id == id).ExecuteUpdateAsync(u => u
            .SetProperty(s => s.RecipientCount, count).SetProperty(s => s.Suppressed, suppressed).SetProperty(s => s.CountedAt, clock.GetUtcNow()), ct);
        return await GetAsync(id, ct);
    }

    /// <summary>Segments in id order after <paramref name="afterKey"/> (keyset).</summary>
    public async Task<List<SegmentView>> ListAsync(long afterKey, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Set<Segment>().AsNoTracking().Where(s => s.Id > afterKey).OrderBy(s => s.Id).Take(take).ToListAsync(ct);
        return rows.Select(ToView).ToList();
    }

    public async Task<DeleteSegmentResult> DeleteAsync(long id, CancellationToken ct = default)
    {
        await using (var connection = await database.OpenAnyAsync(ct))
        await using (var command = connection.CreateCommand())
        {
            // Quoted names and @parameters: one statement for SQLite and PostgreSQL.
            command.CommandText = $"""
                SELECT CASE WHEN EXISTS (SELECT 1 FROM "Segments" WHERE "Id" = @s) THEN 1 ELSE 0 END,
                       CASE WHEN EXISTS (SELECT 1 FROM "OperationSegments" os JOIN "Operations" o ON o."Id" = os."OperationId"
                                         WHERE os."SegmentId" = @s AND o."Status" IN ({(int)OperationStatus.Scheduled}, {(int)OperationStatus.Processing}, {(int)OperationStatus.Paused}))
                            THEN 1 ELSE 0 END
                """;
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@s";
            parameter.Value = id;
            command.Parameters.Add(parameter);
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            if (Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture) == 0)
            {
                return DeleteSegmentResult.NotFound;
            }
            if (Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture) == 1)
            {
                return DeleteSegmentResult.InUse;
            }
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Set<Segment>().Where(s => s.Id == id).ExecuteDeleteAsync(ct);
        return DeleteSegmentResult.Deleted;
    }

    private static SegmentView ToView(Segment s) =>
        new(PublicId.Encode(PublicId.Segment, s.Id), s.Id, s.Name,
            (JsonSerializer.Deserialize<List<long>>(s.GroupIdsJson) ?? []).Select(g => PublicId.Encode(PublicId.Group, g)).ToList(),
            s.FilterJson, s.RecipientCount, s.Suppressed, s.CountedAt, s.CreatedAt, s.UpdatedAt);

    internal static string Format(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}

/// <summary>A segment as an operation's audience source: its groups and its compiled filter, fixed at launch.</summary>
public sealed record SegmentSource(long SegmentId, IReadOnlyList<long> GroupIds, CompiledFilter Filter);

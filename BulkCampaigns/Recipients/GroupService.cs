using System.Globalization;
using System.Text.Json;
using BulkCampaigns.Api;
using BulkCampaigns.Data;
using CsvHelper;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Recipients;

public sealed record GroupView(string Id, long Key, string Name, long RecipientCount, IReadOnlyList<string> AttributeKeys,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? LastImportAt);

public sealed record RecipientView(string Id, string Address, string Channel, IReadOnlyDictionary<string, string> Variables, DateTimeOffset CreatedAt)
{
    /// <summary>The keyset position of this row: recipients are listed in address order, and an E.164 number fits a long.</summary>
    public long Key => long.Parse(Address.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>Characters of a value sent to a list unless the whole is asked for (a value may hold up to Limits:MaxCellChars).</summary>
    public const int DisplayChars = 500;

    /// <summary>The variables with values longer than <paramref name="most"/> characters cut there, ending with "…".</summary>
    public IReadOnlyDictionary<string, string> ShortVariables(int most = DisplayChars) =>
        Variables.Values.All(v => v.Length <= most) ? Variables
            : Variables.ToDictionary(p => p.Key, p => Shorten(p.Value, most), StringComparer.Ordinal);

    public static string Shorten(string value, int most = DisplayChars) => value.Length <= most ? value : value[..most] + "…";
}

/// <summary>Which recipients a list shows: addresses starting with <see cref="Prefix"/>, or those whose <see cref="Variable"/> holds <see cref="Text"/>.</summary>
public sealed record RecipientFilter(string Prefix = "+", string? Variable = null, string? Text = null)
{
    public static readonly RecipientFilter All = new();
}

public enum DeleteGroupResult { Deleted, NotFound, InUse, Importing }

/// <summary>Groups and their recipients: create, rename, delete, list, browse, export. Pages and endpoints share it.</summary>
public sealed class GroupService(IDbContextFactory<AppDbContext> dbFactory, DatabaseConnection database, IGroupUsage usage, RecipientOptions options, TimeProvider clock)
{
    public const int MaxNameLength = 200;

    public long MaxRecipients => options.MaxGroupRecipients;

    /// <summary>Null when the name is fine, else what is wrong with it.</summary>
    public static string? CheckName(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "Give the group a name." :
        name.Trim().Length > MaxNameLength ? $"The name is longer than {MaxNameLength} characters." : null;

    public async Task<GroupView> CreateAsync(string name, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var group = new Group { Name = name.Trim(), CreatedAt = now, UpdatedAt = now };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.Add(group);
        await db.SaveChangesAsync(ct);
        return ToView(group);
    }

    public async Task<GroupView?> RenameAsync(long id, string name, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var group = await db.Set<Group>().FirstOrDefaultAsync(g => g.Id == id, ct);
        if (group is null)
        {
            return null;
        }
        group.Name = name.Trim();
        group.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return ToView(group);
    }

    public async Task<DeleteGroupResult> DeleteAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Set<Group>().AnyAsync(g => g.Id == id, ct))
        {
            return DeleteGroupResult.NotFound;
        }
        if (await usage.IsInUseAsync(id, ct))
        {
            return DeleteGroupResult.InUse;
        }
        if (await db.Set<Import>().AnyAsync(i => i.GroupId == id && i.Status == ImportStatus.Processing, ct))
        {
            return DeleteGroupResult.Importing;
        }
        // Recipients, imports and their errors go with it (cascade). PostgreSQL has no key from recipients and their
        // segment rows to the group (Data/AppDbContext.cs), so there these statements delete them, after the group's
        // row in the same transaction: an import moving into the group finishes before, or finds it gone.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Set<Group>().Where(g => g.Id == id).ExecuteDeleteAsync(ct);
        if (db.Database.IsNpgsql())
        {
            await db.Set<Recipient>().Where(r => r.GroupId == id).ExecuteDeleteAsync(ct);
            await db.Database.ExecuteSqlAsync($"""DELETE FROM "SegmentValues" WHERE "GroupId" = {id}""", ct);
        }
        await tx.CommitAsync(ct);
        return DeleteGroupResult.Deleted;
    }

    public async Task<GroupView?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var group = await db.Set<Group>().AsNoTracking().FirstOrDefaultAsync(g => g.Id == id, ct);
        return group is null ? null : ToView(group);
    }

    /// <summary>Groups in creation order after <paramref name="afterId"/>; returns up to <paramref name="take"/> rows.</summary>
    public async Task<List<GroupView>> ListAsync(long afterId, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var groups = await db.Set<Group>().AsNoTracking().Where(g => g.Id > afterId).OrderBy(g => g.Id).Take(take).ToListAsync(ct);
        return groups.ConvertAll(ToView);
    }

    /// <summary>Turns what a user typed into an address prefix (<c>+1532</c>), or null when it holds anything but digits.</summary>
    public static string? SearchPrefix(string? search)
    {
        if (string.IsNullOrWhiteSpace(search))
        {
            return "+";
        }
        var digits = new string(search.Where(c => c is not (' ' or '-' or '(' or ')' or '.' or '+')).ToArray());
        return digits.All(char.IsAsciiDigit) && digits.Length <= 15 ? "+" + digits : null;
    }

    /// <summary>Reads the <c>search</c> query of a list endpoint as an address prefix; a bad one is added to <paramref name="validation"/>.</summary>
    public static string SearchPrefix(HttpRequest request, ApiValidation validation)
    {
        var prefix = SearchPrefix(request.Query["search"]);
        if (prefix is null)
        {
            validation.Add("search", "search matches the start of an address: digits, optionally starting with +. To search a variable's values, add variable=<name>.");
        }
        return prefix ?? "+";
    }

    /// <summary>
    /// The filter a page or the API asks for: without a variable, <paramref name="search"/> is the start of a number; with
    /// one (a variable of the group), it is text the variable's value contains (letter case ignored for A-Z). Null and
    /// <paramref name="error"/> when it can't be used.
    /// </summary>
    public static RecipientFilter? Filter(GroupView group, string? search, string? variable, out string? field, out string? error)
    {
        field = null;
        error = null;
        if (string.IsNullOrEmpty(variable))
        {
            if (SearchPrefix(search) is { } prefix)
            {
                return new RecipientFilter(prefix);
            }
            field = "search";
            error = "search matches the start of an address: digits, optionally starting with +. To search a variable's values, add variable=<name>.";
            return null;
        }
        if (!group.AttributeKeys.Contains(variable, StringComparer.Ordinal))
        {
            field = "variable";
            error = group.AttributeKeys.Count == 0 ? $"The group has no variables, so none is named '{RecipientView.Shorten(variable, 100)}'."
                : $"The group has no variable '{RecipientView.Shorten(variable, 100)}'; it has {string.Join(", ", group.AttributeKeys.Take(20))}{(group.AttributeKeys.Count > 20 ? ", …" : "")}.";
            return null;
        }
        if (search is { Length: > 200 })
        {
            field = "search";
            error = "search is longer than 200 characters.";
            return null;
        }
        return new RecipientFilter("+", variable, string.IsNullOrWhiteSpace(search) ? null : search.Trim());
    }

    /// <summary>
    /// One page of a group's recipients in address order, after the key <paramref name="afterKey"/> (0: from the start),
    /// limited to addresses starting with <paramref name="prefix"/>. Keyset on the (GroupId, Address) index:
    /// page 18,000 costs what page 1 does.
    /// </summary>
    public Task<List<RecipientView>> RecipientsAsync(long groupId, long afterKey, int take, string prefix = "+", CancellationToken ct = default) =>
        RecipientsAsync(groupId, afterKey, take, new RecipientFilter(prefix), ct);

    /// <summary>One page of the recipients <paramref name="filter"/> picks, in address order after <paramref name="afterKey"/>.</summary>
    public async Task<List<RecipientView>> RecipientsAsync(long groupId, long afterKey, int take, RecipientFilter filter, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAnyAsync(ct);
        await using var command = connection.CreateCommand();
        var prefix = filter.Prefix;
        // One lower bound only: given two (the prefix and the cursor), SQLite seeks to one and filters the other
        // row by row, which at depth 900,000 meant walking 900,000 index entries.
        var after = afterKey > 0 ? "+" + afterKey.ToString(CultureInfo.InvariantCulture) : "";
        var seekAfterCursor = string.CompareOrdinal(after, prefix) >= 0;
        var variable = "";
        if (filter.Variable is { } name && filter.Text is { } text)
        {
            // Walks the group in address order until a page is found: a search of a million recipients reads them once.
            // SQLite: a JSON path can't quote a name holding a double quote; json_each reads any name, more slowly.
            // PostgreSQL: ->> takes the name as it is; ILIKE ignores the case of every letter (SQLite's LIKE: A-Z).
            variable = database.IsPostgres
                ? """ AND ("VariablesJson"::jsonb ->> @var) ILIKE @like ESCAPE '\'"""
                : name.Contains('"', StringComparison.Ordinal)
                    ? """ AND EXISTS (SELECT 1 FROM json_each("VariablesJson") j WHERE j.key = @var AND j.value LIKE @like ESCAPE '\')"""
                    : """ AND ("VariablesJson" ->> @path) LIKE @like ESCAPE '\'""";
            Add(command, "@var", name);
            if (!database.IsPostgres)
            {
                Add(command, "@path", "$.\"" + name + "\"");
            }
            Add(command, "@like", "%" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%");
        }
        // Quoted names and @parameters: the same statement on SQLite and PostgreSQL (whose Address column compares
        // byte by byte, collation "C", as SQLite's does).
        command.CommandText = $"""
            SELECT "Id", "Address", "Channel", "VariablesJson", "CreatedAt" FROM "Recipients"
            WHERE "GroupId" = @g AND "Address" {(seekAfterCursor ? ">" : ">=")} @from AND "Address" < @to{variable}
            ORDER BY "Address" LIMIT @take
            """;
        Add(command, "@g", groupId);
        Add(command, "@from", seekAfterCursor ? after : prefix);
        // Every E.164 string starting with the prefix sorts below prefix + ':' (the character after '9').
        Add(command, "@to", prefix + ":");
        Add(command, "@take", take);
        var list = new List<RecipientView>(take);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new RecipientView(PublicId.Encode(PublicId.Recipient, reader.GetInt64(0)), reader.GetString(1), reader.GetString(2),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(3)) ?? [], reader.GetFieldValue<DateTimeOffset>(4)));
        }
        return list;
    }

    /// <summary>Writes the group as CSV (address, channel, then each variable) row by row, never holding it in memory.</summary>
    public async Task ExportAsync(long groupId, Stream output, CancellationToken ct = default)
    {
        var group = await GetAsync(groupId, ct) ?? throw new InvalidOperationException("No such group.");
        var keys = group.AttributeKeys;
        // Kestrel allows no synchronous writes: records end with EndRecordAsync, which flushes without blocking.
        await using var csv = CsvWriter.Create(output, CsvCells.WriterOptions, leaveOpen: true);
        csv.WriteField("address");
        csv.WriteField("channel");
        foreach (var key in keys)
        {
            csv.WriteField(CsvCells.Escape(key));
        }
        await csv.EndRecordAsync(ct);
        await using var connection = await database.OpenAnyAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = """SELECT "Address", "Channel", "VariablesJson" FROM "Recipients" WHERE "GroupId" = @g ORDER BY "Address" """;
        Add(command, "@g", groupId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            csv.WriteField(CsvCells.Escape(reader.GetString(0)));
            csv.WriteField(CsvCells.Escape(reader.GetString(1)));
            var variables = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(2)) ?? [];
            foreach (var key in keys)
            {
                csv.WriteField(CsvCells.Escape(variables.GetValueOrDefault(key) ?? ""));
            }
            await csv.EndRecordAsync(ct);
        }
        await csv.FlushAsync(ct);
    }

    internal static GroupView ToView(Group g) => new(PublicId.Encode(PublicId.Group, g.Id), g.Id, g.Name, g.RecipientCount,
        JsonSerializer.Deserialize<List<string>>(g.AttributeKeysJson) ?? [], g.CreatedAt, g.UpdatedAt, g.LastImportAt);

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BulkCampaigns.Tests.Infrastructure;
using BulkCampaigns.Tests.Recipients;
using PhoneNumbers;

namespace BulkCampaigns.Tests.Recipients.Segments;

/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
public sealed class SegmentSemanticsTests(AppFactory app) : SegmentSemanticsTests<AppFactory>(app);

/// <summary>On PostgreSQL: the same filters, compiled by its dialect over its jsonb side table.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class SegmentSemanticsTestsOnPostgres(PostgresAppFactory app) : SegmentSemanticsTests<PostgresAppFactory>(app);

/// <summary>
/// The SQL the segments compile to, against a reference evaluator written here from the contract's words alone,
/// over generated recipients with awkward values (many scripts, numbers that aren't, dates that don't exist).
/// </summary>
public abstract class SegmentSemanticsTests<TApp>(TApp app) : IClassFixture<TApp>
    where TApp : AppFactory
{
    private readonly HttpClient _client = app.CreateApiClient();

    private static readonly string[] Plans = ["Pro", "pro", "PRO", "Gold", "gold ", "ÅLESUND", "ålesund", "Ålesund", "", "free", "Straße", "STRASSE", "Hà Nội", "東京", "Zoë 😀", "KELVIN"];
    private static readonly string[] Ages = ["30", " 42", "3.5", "-7", "1e2", "n/a", "", "007", "30 years", "18", "65", "0", "99.9", "1,000", "+5"];
    private static readonly string[] Cities = ["Paris", "paris", "PARIS", "Lyon", "Hà Nội", "hà nội", "東京", "Zoë", "ZOË", "zoe", "Ålesund", "Ärhus"];
    private static readonly string[] Regions = ["US", "CA", "GB", "FR", "VN", "DE"];

    private sealed record Person(string Address, Dictionary<string, string> Variables, string Group);

    [Fact]
    public async Task Many_random_filters_count_and_list_exactly_what_the_reference_evaluator_picks()
    {
        var random = new Random(18);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var numbers = Numbers(random, 260);
        string Date()
        {
            var d = today.AddDays(-random.Next(0, 400));
            return random.Next(12) switch
            {
                0 => "2026-02-30",
                1 => d.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture),
                2 => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "T10:00:00Z",
                3 => "",
                4 => d.ToString("yyyy-M-d", CultureInfo.InvariantCulture),
                _ => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            };
        }
        string Pick(string[] from) => from[random.Next(from.Length)];
        static string Cell(string v) => "\"" + v.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

        // Group A carries every variable, one named with a quote; group B only some, and shares addresses with A.
        var a = await _client.CreateGroupAsync("Segments A");
        var b = await _client.CreateGroupAsync("Segments B");
        var csvA = new StringBuilder("phone,plan,age,signup,city,\"say \"\"hi\"\"\"\n");
        foreach (var n in numbers.Take(200))
        {
            csvA.Append(n).Append(',').Append(Cell(Pick(Plans))).Append(',').Append(Cell(Pick(Ages))).Append(',').Append(Cell(Date())).Append(',')
                .Append(Cell(Pick(Cities))).Append(',').Append(Cell(Pick(Plans))).Append('\n');
        }
        var csvB = new StringBuilder("phone,plan,age\n");
        foreach (var n in numbers.Skip(150))
        {
            csvB.Append(n).Append(',').Append(Cell(Pick(Plans))).Append(',').Append(Cell(Pick(Ages))).Append('\n');
        }
        Assert.Equal("COMPLETED", (await _client.ImportAsync(a, csvA.ToString())).GetProperty("status").GetString());
        Assert.Equal("COMPLETED", (await _client.ImportAsync(b, csvB.ToString())).GetProperty("status").GetString());
        var people = new List<Person>();
        foreach (var g in new[] { a, b })
        {
            foreach (var r in await _client.AllRecipientsAsync(g, 1000))
            {
                people.Add(new Person(r.GetProperty("address").GetString()!,
                    r.GetProperty("variables").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!), g));
            }
        }
        Assert.True(people.Count > 300, $"only {people.Count} recipients imported");
        var suppressed = people.Select(p => p.Address).Distinct().Where((_, i) => i % 7 == 0).ToHashSet();
        foreach (var address in suppressed)
        {
            Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/v1/Suppressions", new { address, reason = "test" })).StatusCode);
        }

        var service = (BulkCampaigns.Recipients.Segments.SegmentService)app.Services.GetService(typeof(BulkCampaigns.Recipients.Segments.SegmentService))!;
        // On SQLite a large group that is most of the table is counted in rowid ranges on every core; here that starts at
        // one recipient, so every count of group A alone is also made in parts and must give the same answer.
        var database = (BulkCampaigns.Data.DatabaseConnection)app.Services.GetService(typeof(BulkCampaigns.Data.DatabaseConnection))!;
        var inParts = database.IsPostgres ? null : new BulkCampaigns.Recipients.Segments.SqliteSegmentStore(database,
            (BulkCampaigns.Data.WriteGate)app.Services.GetService(typeof(BulkCampaigns.Data.WriteGate))!, countInPartsFrom: 1);
        Assert.True(BulkCampaigns.Data.PublicId.TryDecode(BulkCampaigns.Data.PublicId.Group, a, out var aId));
        if (inParts is not null)
        {
            Assert.Equal(Math.Clamp(Environment.ProcessorCount, 1, 4), (await inParts.PartsAsync(aId, CancellationToken.None)).Count);
        }
        var variables = new[] { "plan", "age", "signup", "city", "say \"hi\"" };
        // First every op on its own, over both groups (B's recipients lack signup and city: "missing" is exercised),
        // and its negation; then random nestings.
        var fixedFilters = new List<JsonObject>();
        foreach (var (variable, op, value) in new (string, string, JsonNode?)[]
        {
            ("city", "eq", "paris"), ("city", "neq", "PARIS"), ("city", "in", new JsonArray("zoë", "hà nội")), ("city", "notIn", new JsonArray("lyon")),
            ("city", "contains", "Ö"), ("city", "startsWith", "hà"), ("city", "exists", null), ("city", "notExists", null),
            ("plan", "eq", "ålesund"), ("plan", "eq", "strasse"), ("plan", "neq", "pro"), ("say \"hi\"", "eq", "gold "),
            ("age", "gt", 30.0), ("age", "gte", 18.0), ("age", "lt", 10.0), ("age", "lte", 0.0), ("age", "between", new JsonArray(1.0, 99.0)),
            ("signup", "before", today.AddDays(-100).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            ("signup", "after", today.AddDays(-100).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            ("signup", "between", new JsonArray(today.AddDays(-300).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), today.AddDays(-30).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))),
            ("signup", "withinLastDays", 60),
        })
        {
            var condition = new JsonObject { ["variable"] = variable, ["op"] = op };
            if (value is not null)
            {
                condition["value"] = value;
            }
            fixedFilters.Add(condition);
            fixedFilters.Add(new JsonObject { ["not"] = condition.DeepClone() });
        }
        foreach (var country in Regions)
        {
            fixedFilters.Add(new JsonObject { ["country"] = new JsonArray(country) });
        }
        for (var round = 0; round < fixedFilters.Count + 250; round++)
        {
            var groups = round < fixedFilters.Count ? new[] { a, b } : (round % 3) switch { 0 => new[] { a }, 1 => new[] { b }, _ => new[] { a, b } };
            // Group B alone has only plan and age: a filter on another variable is a 400 there (tested in the API tests).
            var filter = round < fixedFilters.Count ? fixedFilters[round] : RandomFilter(random, round % 3 == 1 ? variables[..2] : variables, today, depth: 0);
            var body = new JsonObject { ["groupIds"] = new JsonArray(groups.Select(g => (JsonNode)g!).ToArray()), ["filter"] = filter };
            var response = await _client.PostAsync("/v1/Segments/Count", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{filter.ToJsonString()} → {text}");

            var chosen = people.Where(p => groups.Contains(p.Group)).ToList();
            var expected = chosen.Where(p => Matches(filter, p, today)).Select(p => p.Address).ToHashSet();
            var answer = JsonDocument.Parse(text).RootElement;
            Assert.True(expected.Count == answer.GetProperty("recipientCount").GetInt64(),
                $"round {round}: {filter.ToJsonString()} over {groups.Length} group(s): expected {expected.Count}, got {text}");
            Assert.Equal(expected.Count(suppressed.Contains), answer.GetProperty("suppressed").GetInt64());

            var validation = new BulkCampaigns.Api.ApiValidation();
            using var doc = JsonDocument.Parse(filter.ToJsonString());
            var draft = await service.CheckAsync(null, groups, doc.RootElement, validation, nameRequired: false, CancellationToken.None);
            Assert.NotNull(draft);
            var listed = await service.SampleAsync(draft!, 10_000);
            if (inParts is not null && groups is [var only] && only == a)
            {
                var (count, suppressedCount) = await inParts.CountAsync([aId], inParts.Sql.Compile(draft!.Filter, today, hoist: true), CancellationToken.None);
                Assert.True(expected.Count == count, $"round {round} in parts: {filter.ToJsonString()}: expected {expected.Count}, got {count}");
                Assert.Equal(expected.Count(suppressed.Contains), suppressedCount);
            }
            Assert.Equal(expected.Order(StringComparer.Ordinal), listed.Select(m => m.Address).Distinct().Order(StringComparer.Ordinal));
        }
    }

    private static List<string> Numbers(Random random, int count)
    {
        var util = PhoneNumberUtil.GetInstance();
        var list = new HashSet<string>();
        while (list.Count < count)
        {
            var region = Regions[random.Next(Regions.Length)];
            var example = util.GetExampleNumberForType(region, random.Next(2) == 0 ? PhoneNumberType.MOBILE : PhoneNumberType.FIXED_LINE);
            var national = example.NationalNumber.ToString(CultureInfo.InvariantCulture);
            var changed = national[..^3] + random.Next(1000).ToString("D3", CultureInfo.InvariantCulture);
            var number = util.Parse("+" + example.CountryCode + changed, null);
            if (util.IsValidNumber(number))
            {
                list.Add(util.Format(number, PhoneNumberFormat.E164));
            }
        }
        return list.ToList();
    }

    private static JsonObject RandomFilter(Random random, string[] variables, DateOnly today, int depth)
    {
        var kind = random.Next(depth >= 2 ? 4 : 8);
        if (kind >= 5)
        {
            var count = random.Next(0, 4);
            var items = new JsonArray(Enumerable.Range(0, count).Select(_ => RandomFilter(random, variables, today, depth + 1)).ToArray());
            return kind switch
            {
                5 => new JsonObject { ["all"] = items },
                6 => new JsonObject { ["any"] = items },
                _ => new JsonObject { ["not"] = RandomFilter(random, variables, today, depth + 1) },
            };
        }
        if (kind == 4 && random.Next(2) == 0)
        {
            return new JsonObject { ["country"] = new JsonArray(Enumerable.Range(0, random.Next(1, 3)).Select(_ => (JsonNode)Regions[random.Next(Regions.Length)]!).ToArray()) };
        }
        var variable = variables[random.Next(variables.Length)];
        string Text() => random.Next(3) switch
        {
            0 => Plans[random.Next(Plans.Length)] is { Length: > 0 } p ? p : "pro",
            1 => Cities[random.Next(Cities.Length)],
            _ => Ages[random.Next(Ages.Length)] is { Length: > 0 } x ? x : "30",
        };
        string Day() => today.AddDays(-random.Next(0, 400)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        double Num() => random.Next(-10, 110) / (random.Next(2) == 0 ? 1.0 : 2.0);
        var op = new[] { "eq", "neq", "in", "notIn", "contains", "startsWith", "exists", "notExists", "gt", "gte", "lt", "lte", "between", "before", "after", "dateBetween", "withinLastDays" }[random.Next(17)];
        JsonNode? value = op switch
        {
            "exists" or "notExists" => null,
            "in" or "notIn" => new JsonArray(Enumerable.Range(0, random.Next(1, 4)).Select(_ => (JsonNode)Text()!).ToArray()),
            "contains" or "startsWith" => Text() is var t && t.Length > 2 && random.Next(2) == 0 ? t[..2] : Text(),
            "gt" or "gte" or "lt" or "lte" => Num(),
            "between" => new JsonArray(Num() is var lo ? lo : 0, lo + random.Next(0, 60)),
            "before" or "after" => Day(),
            "dateBetween" => Day() is var d1 && Day() is var d2 && string.CompareOrdinal(d1, d2) <= 0 ? new JsonArray(d1, d2) : new JsonArray(d2, d1),
            "withinLastDays" => random.Next(0, 200),
            _ => Text(),
        };
        var condition = new JsonObject { ["variable"] = variable, ["op"] = op == "dateBetween" ? "between" : op };
        if (value is not null)
        {
            condition["value"] = value;
        }
        return condition;
    }

    // ---- The reference: the contract's words, evaluated one recipient at a time. ----

    private static Regex JsonNumber() => ReferencePatterns.JsonNumber();

    private static bool Matches(JsonNode filter, Person p, DateOnly today)
    {
        var o = filter.AsObject();
        if (o["all"] is JsonArray all)
        {
            return all.All(f => Matches(f!, p, today));
        }
        if (o["any"] is JsonArray any)
        {
            return any.Any(f => Matches(f!, p, today));
        }
        if (o["not"] is { } not)
        {
            return !Matches(not, p, today);
        }
        if (o["country"] is JsonArray countries)
        {
            var util = PhoneNumberUtil.GetInstance();
            var region = util.GetRegionCodeForNumber(util.Parse(p.Address, null));
            return countries.Any(c => (string)c! == region);
        }
        var name = (string)o["variable"]!;
        var op = (string)o["op"]!;
        var value = o["value"];
        var has = p.Variables.TryGetValue(name, out var v);
        bool Same(string x, string y) => string.Equals(x, y, StringComparison.OrdinalIgnoreCase);
        double? Number() => has && JsonNumber().IsMatch(v!.Trim(' ', '\t', '\n', '\r')) ? double.Parse(v.Trim(' ', '\t', '\n', '\r'), CultureInfo.InvariantCulture) : null;
        string? Day()
        {
            if (!has || v!.Length < 10 || !DateOnly.TryParseExact(v[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                return null;
            }
            return v.Length == 10 || v[10] is 'T' or 't' or ' ' ? v[..10] : null;
        }
        int Cmp(string x, string y) => string.CompareOrdinal(x, y);
        switch (op)
        {
            case "eq": return has && Same(v!, (string)value!);
            case "neq": return !has || !Same(v!, (string)value!);
            case "in": return has && value!.AsArray().Any(x => Same(v!, (string)x!));
            case "notIn": return !has || !value!.AsArray().Any(x => Same(v!, (string)x!));
            case "contains": return has && v!.Contains((string)value!, StringComparison.OrdinalIgnoreCase);
            case "startsWith": return has && v!.StartsWith((string)value!, StringComparison.OrdinalIgnoreCase);
            case "exists": return has && v!.Length > 0;
            case "notExists": return !has || v!.Length == 0;
            case "gt": return Number() > (double)value!;
            case "gte": return Number() >= (double)value!;
            case "lt": return Number() < (double)value!;
            case "lte": return Number() <= (double)value!;
            case "between" when value is JsonArray range && range[0]!.GetValueKind() == JsonValueKind.String:
                return Day() is { } d && Cmp(d, (string)range[0]!) >= 0 && Cmp(d, (string)range[1]!) <= 0;
            case "between":
                return Number() is { } n && n >= (double)value![0]! && n <= (double)value[1]!;
            case "before": return Day() is { } b && Cmp(b, (string)value!) < 0;
            case "after": return Day() is { } a && Cmp(a, (string)value!) > 0;
            case "withinLastDays":
                var from = today.AddDays(-(int)value!).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                return Day() is { } w && Cmp(w, from) >= 0 && Cmp(w, today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) <= 0;
            default: throw new InvalidOperationException(op);
        }
    }
}

internal static partial class ReferencePatterns
{
    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")]
    public static partial Regex JsonNumber();
}

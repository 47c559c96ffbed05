using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BulkCampaigns.Api;
using BulkCampaigns.Data;
using PhoneNumbers;

namespace BulkCampaigns.Recipients.Segments;

/// <summary>
/// A segment's filter (docs/api.md: Segments): <c>all</c>, <c>any</c> and <c>not</c> of conditions on recipient
/// variables, the number's country and engagement with an earlier operation. It is read from JSON once, checked
/// whole, and then compiled to SQL by a <see cref="SegmentSql"/> dialect or evaluated in memory by tests.
/// </summary>
public abstract record SegmentFilter
{
    public const int MaxDepth = 8;
    public const int MaxConditions = 100;
    public const int MaxValues = 1000;
    public const int MaxValueChars = 500;
    public const int MaxDays = 36_600;

    /// <summary>The filter that keeps every recipient: <c>{"all": []}</c>.</summary>
    public static readonly SegmentFilter Everyone = new AllOf([]);
}

public sealed record AllOf(IReadOnlyList<SegmentFilter> Filters) : SegmentFilter;

public sealed record AnyOf(IReadOnlyList<SegmentFilter> Filters) : SegmentFilter;

public sealed record NotOf(SegmentFilter Filter) : SegmentFilter;

/// <summary>What a variable condition compares: its ops decide it (text, number or date).</summary>
public enum ValueOp
{
    Eq, Neq, In, NotIn, Contains, StartsWith, Exists, NotExists,
    Gt, Gte, Lt, Lte, Between,
    Before, After, DateBetween, WithinLastDays,
}

/// <summary>
/// A condition on one variable. Text values are kept as given (folded when compared, <see cref="TextFold"/>); numbers as doubles; dates as
/// <c>yyyy-MM-dd</c>. <c>between</c> means numbers unless both ends are ISO dates.
/// </summary>
public sealed record VariableCondition(string Variable, ValueOp Op, IReadOnlyList<string> Texts, double Low = 0, double High = 0, int Days = 0) : SegmentFilter;

public sealed record CountryCondition(IReadOnlyList<string> Countries) : SegmentFilter;

public enum EngagementEvent { Sent, Delivered, Failed, Clicked, NotClicked }

public sealed record EngagementCondition(long OperationId, EngagementEvent Event) : SegmentFilter;

/// <summary>Reads a filter's JSON into a <see cref="SegmentFilter"/>, naming the path of every bad part.</summary>
public static class SegmentFilterReader
{
    public static readonly IReadOnlyDictionary<string, ValueOp> TextOps = new Dictionary<string, ValueOp>(StringComparer.Ordinal)
    {
        ["eq"] = ValueOp.Eq, ["neq"] = ValueOp.Neq, ["in"] = ValueOp.In, ["notIn"] = ValueOp.NotIn,
        ["contains"] = ValueOp.Contains, ["startsWith"] = ValueOp.StartsWith, ["exists"] = ValueOp.Exists, ["notExists"] = ValueOp.NotExists,
    };

    public static readonly IReadOnlyDictionary<string, ValueOp> NumberOps = new Dictionary<string, ValueOp>(StringComparer.Ordinal)
    {
        ["gt"] = ValueOp.Gt, ["gte"] = ValueOp.Gte, ["lt"] = ValueOp.Lt, ["lte"] = ValueOp.Lte, ["between"] = ValueOp.Between,
    };

    public static readonly IReadOnlyDictionary<string, ValueOp> DateOps = new Dictionary<string, ValueOp>(StringComparer.Ordinal)
    {
        ["before"] = ValueOp.Before, ["after"] = ValueOp.After, ["withinLastDays"] = ValueOp.WithinLastDays,
    };

    private static readonly string AllOps = "eq, neq, in, notIn, contains, startsWith, exists, notExists, gt, gte, lt, lte, between, before, after, withinLastDays";

    private static readonly string[] Events = ["sent", "delivered", "failed", "clicked", "notClicked"];

    /// <summary>The filter, or null with every problem added under <paramref name="path"/> (e.g. <c>filter.any[1].op</c>).</summary>
    public static SegmentFilter? Read(JsonElement? element, string path, ApiValidation validation)
    {
        if (element is not { } e || e.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return SegmentFilter.Everyone; // no filter: everyone in the groups
        }
        var count = 0;
        var before = validation.Errors.Count;
        var filter = ReadNode(e, path, validation, 0, ref count);
        return validation.Errors.Count == before ? filter : null;
    }

    public static SegmentFilter? Read(string json, string path, ApiValidation validation)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return Read(doc.RootElement.Clone(), path, validation);
        }
        catch (JsonException)
        {
            validation.Add(path, "The filter is not valid JSON.");
            return null;
        }
    }

    private static SegmentFilter? ReadNode(JsonElement e, string path, ApiValidation v, int depth, ref int count)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            v.Add(path, "A filter is an object: {\"all\": […]}, {\"any\": […]}, {\"not\": …} or a condition.");
            return null;
        }
        if (depth > SegmentFilter.MaxDepth)
        {
            v.Add(path, $"Filters nest at most {SegmentFilter.MaxDepth} levels deep.");
            return null;
        }
        var kinds = new[] { "all", "any", "not", "variable", "country", "engagement" }.Where(k => e.TryGetProperty(k, out _)).ToList();
        if (kinds.Count != 1)
        {
            v.Add(path, kinds.Count == 0
                ? "A filter needs one of all, any, not, variable, country or engagement."
                : $"A filter has one of all, any, not, variable, country or engagement, not {string.Join(" and ", kinds)}.");
            return null;
        }
        if (++count > SegmentFilter.MaxConditions)
        {
            v.Add(path, $"A filter has at most {SegmentFilter.MaxConditions} parts.");
            return null;
        }
        var kind = kinds[0];
        switch (kind)
        {
            case "all":
            case "any":
            {
                var list = e.GetProperty(kind);
                if (list.ValueKind != JsonValueKind.Array)
                {
                    v.Add($"{path}.{kind}", $"{kind} takes an array of filters.");
                    return null;
                }
                var items = new List<SegmentFilter>();
                var i = 0;
                foreach (var item in list.EnumerateArray())
                {
                    if (ReadNode(item, $"{path}.{kind}[{i++}]", v, depth + 1, ref count) is { } f)
                    {
                        items.Add(f);
                    }
                }
                return kind == "all" ? new AllOf(items) : new AnyOf(items);
            }
            case "not":
                return ReadNode(e.GetProperty("not"), $"{path}.not", v, depth + 1, ref count) is { } inner ? new NotOf(inner) : null;
            case "country":
                return ReadCountry(e.GetProperty("country"), $"{path}.country", v);
            case "engagement":
                return ReadEngagement(e.GetProperty("engagement"), $"{path}.engagement", v);
            default:
                return ReadVariable(e, path, v);
        }
    }

    private static CountryCondition? ReadCountry(JsonElement e, string path, ApiValidation v)
    {
        var codes = new List<string>();
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() == 0)
        {
            v.Add(path, "country takes an array of two-letter country codes, e.g. [\"US\", \"CA\"].");
            return null;
        }
        var i = 0;
        var ok = true;
        var supported = PhoneNumberUtil.GetInstance().GetSupportedRegions();
        foreach (var item in e.EnumerateArray())
        {
            var code = item.ValueKind == JsonValueKind.String ? item.GetString()!.Trim().ToUpperInvariant() : null;
            if (code is null || !supported.Contains(code))
            {
                v.Add($"{path}[{i}]", $"{Shown(item)} is not a two-letter country code with phone numbers (ISO 3166, e.g. \"US\").");
                ok = false;
            }
            else if (!codes.Contains(code))
            {
                codes.Add(code);
            }
            i++;
        }
        return ok ? new CountryCondition(codes) : null;
    }

    private static EngagementCondition? ReadEngagement(JsonElement e, string path, ApiValidation v)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            v.Add(path, "engagement is {\"operationId\": \"comms_operation_…\", \"event\": \"sent|delivered|failed|clicked|notClicked\"}.");
            return null;
        }
        long operationId = 0;
        var ok = true;
        if (!e.TryGetProperty("operationId", out var op) || op.ValueKind != JsonValueKind.String || !PublicId.TryDecode(PublicId.Operation, op.GetString(), out operationId))
        {
            v.Add($"{path}.operationId", "operationId is an operation's id, comms_operation_….");
            ok = false;
        }
        var name = e.TryGetProperty("event", out var ev) && ev.ValueKind == JsonValueKind.String ? ev.GetString() : null;
        var index = name is null ? -1 : Array.IndexOf(Events, name);
        if (index < 0)
        {
            v.Add($"{path}.event", $"event is one of {string.Join(", ", Events)}.");
            return null;
        }
        var evt = (EngagementEvent)index;
        return ok ? new EngagementCondition(operationId, evt) : null;
    }

    private static VariableCondition? ReadVariable(JsonElement e, string path, ApiValidation v)
    {
        var ok = true;
        var variable = e.GetProperty("variable");
        string? name = variable.ValueKind == JsonValueKind.String ? variable.GetString() : null;
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
        {
            v.Add($"{path}.variable", "variable is the name of a recipient variable (a column of the imported file).");
            ok = false;
        }
        var opName = e.TryGetProperty("op", out var opElement) && opElement.ValueKind == JsonValueKind.String ? opElement.GetString()! : null;
        if (opName is null || !(TextOps.ContainsKey(opName) || NumberOps.ContainsKey(opName) || DateOps.ContainsKey(opName)))
        {
            v.Add($"{path}.op", opName is null ? $"op is required: one of {AllOps}." : $"'{Cut(opName)}' is not an op; use one of {AllOps}.");
            return null;
        }
        var hasValue = e.TryGetProperty("value", out var value) && value.ValueKind != JsonValueKind.Null;
        var valuePath = $"{path}.value";
        if (opName is "exists" or "notExists")
        {
            if (hasValue)
            {
                v.Add(valuePath, $"{opName} takes no value.");
                return null;
            }
            return ok ? new VariableCondition(name!, TextOps[opName], []) : null;
        }
        if (!hasValue)
        {
            v.Add(valuePath, $"{opName} needs a value.");
            return null;
        }
        if (TextOps.TryGetValue(opName, out var textOp))
        {
            var texts = new List<string>();
            if (textOp is ValueOp.In or ValueOp.NotIn)
            {
                if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() is 0 or > SegmentFilter.MaxValues)
                {
                    v.Add(valuePath, $"{opName} takes an array of 1 to {SegmentFilter.MaxValues} texts.");
                    return null;
                }
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (Text(item, $"{valuePath}[{i++}]", v) is { } t)
                    {
                        texts.Add(t);
                    }
                    else
                    {
                        ok = false;
                    }
                }
            }
            else if (Text(value, valuePath, v) is { } t)
            {
                texts.Add(t);
            }
            else
            {
                ok = false;
            }
            return ok ? new VariableCondition(name!, textOp, texts.Distinct(StringComparer.Ordinal).ToList()) : null;
        }
        if (opName == "between")
        {
            if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 2)
            {
                v.Add(valuePath, "between takes [low, high]: two numbers, or two ISO dates (\"2026-01-31\").");
                return null;
            }
            var low = value[0];
            var high = value[1];
            if (low.ValueKind == JsonValueKind.String && high.ValueKind == JsonValueKind.String)
            {
                var a = Date(low, $"{valuePath}[0]", v);
                var b = Date(high, $"{valuePath}[1]", v);
                if (a is null || b is null)
                {
                    return null;
                }
                if (string.CompareOrdinal(a, b) > 0)
                {
                    v.Add(valuePath, "between: the first date must not be after the second.");
                    return null;
                }
                return ok ? new VariableCondition(name!, ValueOp.DateBetween, [a, b]) : null;
            }
            var lo = Number(low, $"{valuePath}[0]", v);
            var hi = Number(high, $"{valuePath}[1]", v);
            if (lo is null || hi is null)
            {
                return null;
            }
            if (lo > hi)
            {
                v.Add(valuePath, "between: the first number must not be above the second.");
                return null;
            }
            return ok ? new VariableCondition(name!, ValueOp.Between, [], lo.Value, hi.Value) : null;
        }
        if (NumberOps.TryGetValue(opName, out var numberOp))
        {
            return Number(value, valuePath, v) is { } n && ok ? new VariableCondition(name!, numberOp, [], n, n) : null;
        }
        var dateOp = DateOps[opName];
        if (dateOp == ValueOp.WithinLastDays)
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var days) || days is < 0 or > SegmentFilter.MaxDays)
            {
                v.Add(valuePath, $"withinLastDays takes a whole number of days, 0 to {SegmentFilter.MaxDays}.");
                return null;
            }
            return ok ? new VariableCondition(name!, dateOp, [], Days: days) : null;
        }
        return Date(value, valuePath, v) is { } d && ok ? new VariableCondition(name!, dateOp, [d]) : null;
    }

    private static string? Text(JsonElement e, string path, ApiValidation v)
    {
        if (e.ValueKind is JsonValueKind.Number)
        {
            return e.GetRawText(); // a number given for a text op is compared as its text
        }
        if (e.ValueKind != JsonValueKind.String || e.GetString() is not { Length: > 0 } text)
        {
            v.Add(path, "value is a text of at least one character.");
            return null;
        }
        if (text.Length > SegmentFilter.MaxValueChars)
        {
            v.Add(path, $"value has at most {SegmentFilter.MaxValueChars} characters.");
            return null;
        }
        return text;
    }

    private static double? Number(JsonElement e, string path, ApiValidation v)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var n) && double.IsFinite(n))
        {
            return n;
        }
        v.Add(path, $"{Shown(e)} is not a number; a number test (>, ≥, <, ≤, between) needs a number, such as 30.");
        return null;
    }

    private static string? Date(JsonElement e, string path, ApiValidation v)
    {
        if (e.ValueKind == JsonValueKind.String && DateOnly.TryParseExact(e.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            return d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }
        v.Add(path, $"{Shown(e)} is not an ISO date; write it as \"2026-01-31\".");
        return null;
    }

    private static string Shown(JsonElement e) => Cut(e.GetRawText());

    private static string Cut(string s) => s.Length > 60 ? s[..60] + "…" : s;
}

/// <summary>Writes a filter back as the contract's JSON (what the API returns and the builder edits).</summary>
public static class SegmentFilterWriter
{
    public static JsonNode Write(SegmentFilter filter) => filter switch
    {
        AllOf all => new JsonObject { ["all"] = new JsonArray(all.Filters.Select(Write).ToArray()) },
        AnyOf any => new JsonObject { ["any"] = new JsonArray(any.Filters.Select(Write).ToArray()) },
        NotOf not => new JsonObject { ["not"] = Write(not.Filter) },
        CountryCondition c => new JsonObject { ["country"] = new JsonArray(c.Countries.Select(x => (JsonNode)x!).ToArray()) },
        EngagementCondition e => new JsonObject
        {
            ["engagement"] = new JsonObject
            {
                ["operationId"] = PublicId.Encode(PublicId.Operation, e.OperationId),
                ["event"] = e.Event switch { EngagementEvent.NotClicked => "notClicked", var x => x.ToString().ToLowerInvariant() },
            },
        },
        VariableCondition v => WriteVariable(v),
        _ => throw new ArgumentOutOfRangeException(nameof(filter)),
    };

    private static JsonObject WriteVariable(VariableCondition v)
    {
        var op = v.Op switch
        {
            ValueOp.DateBetween => "between",
            _ => char.ToLowerInvariant(v.Op.ToString()[0]) + v.Op.ToString()[1..],
        };
        var o = new JsonObject { ["variable"] = v.Variable, ["op"] = op };
        JsonNode? value = v.Op switch
        {
            ValueOp.Exists or ValueOp.NotExists => null,
            ValueOp.In or ValueOp.NotIn => new JsonArray(v.Texts.Select(t => (JsonNode)t!).ToArray()),
            ValueOp.Between => new JsonArray(v.Low, v.High),
            ValueOp.DateBetween => new JsonArray(v.Texts[0], v.Texts[1]),
            ValueOp.WithinLastDays => v.Days,
            ValueOp.Gt or ValueOp.Gte or ValueOp.Lt or ValueOp.Lte => v.Low,
            _ => v.Texts[0],
        };
        if (value is not null)
        {
            o["value"] = value;
        }
        return o;
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BulkCampaigns.Components.Pages.Recipients.Segments;

public enum FilterKind { All, Any, Not, Variable, Country, Engagement }

/// <summary>
/// One node of the filter as the builder edits it: a combination (all / any / not) or a condition. It writes the
/// contract's JSON and remembers the path it was written at, so the server's problems come back beside it.
/// </summary>
public sealed class FilterNode
{
    public FilterKind Kind { get; set; } = FilterKind.Variable;
    public List<FilterNode> Children { get; } = [];
    public string Variable { get; set; } = "";
    public string Op { get; set; } = "eq";

    /// <summary>The value as typed; for in / notIn, values separated by commas.</summary>
    public string Value { get; set; } = "";

    /// <summary>The high end of between.</summary>
    public string Value2 { get; set; } = "";
    public IReadOnlyCollection<string> Countries { get; set; } = [];
    public string OperationId { get; set; } = "";
    public string Event { get; set; } = "delivered";

    /// <summary>Where this node sat in the last JSON written, e.g. <c>filter.all[1]</c>.</summary>
    public string Path { get; private set; } = "filter";

    public static readonly string[] TextOps = ["eq", "neq", "in", "notIn", "contains", "startsWith", "exists", "notExists"];
    public static readonly string[] NumberOps = ["gt", "gte", "lt", "lte", "between"];
    public static readonly string[] DateOps = ["before", "after", "withinLastDays"];

    public static string OpLabel(string op) => op switch
    {
        "eq" => "is", "neq" => "is not", "in" => "is one of", "notIn" => "is none of", "contains" => "contains", "startsWith" => "starts with",
        "exists" => "has a value", "notExists" => "has no value", "gt" => "> (number)", "gte" => "≥ (number)", "lt" => "< (number)", "lte" => "≤ (number)",
        "between" => "between (numbers or dates)", "before" => "before (date)", "after" => "after (date)", "withinLastDays" => "within the last N days",
        _ => op,
    };

    public bool IsGroup => Kind is FilterKind.All or FilterKind.Any or FilterKind.Not;
    public bool TakesValue => Kind == FilterKind.Variable && Op is not ("exists" or "notExists");
    public bool TakesTwo => Kind == FilterKind.Variable && Op == "between";

    public static FilterNode NewRoot() => new() { Kind = FilterKind.All };

    public JsonNode ToJson(string path = "filter")
    {
        Path = path;
        switch (Kind)
        {
            case FilterKind.All:
            case FilterKind.Any:
                var key = Kind == FilterKind.All ? "all" : "any";
                var list = new JsonArray();
                for (var i = 0; i < Children.Count; i++)
                {
                    list.Add(Children[i].ToJson($"{path}.{key}[{i}]"));
                }
                return new JsonObject { [key] = list };
            case FilterKind.Not:
                if (Children.Count == 0)
                {
                    Children.Add(new FilterNode());
                }
                return new JsonObject { ["not"] = Children[0].ToJson($"{path}.not") };
            case FilterKind.Country:
                return new JsonObject { ["country"] = new JsonArray(Countries.Select(c => (JsonNode)c!).ToArray()) };
            case FilterKind.Engagement:
                return new JsonObject { ["engagement"] = new JsonObject { ["operationId"] = OperationId.Trim(), ["event"] = Event } };
            default:
                var o = new JsonObject { ["variable"] = Variable, ["op"] = Op };
                if (TakesValue)
                {
                    o["value"] = ValueJson();
                }
                return o;
        }
    }

    private JsonNode? ValueJson()
    {
        if (Op is "in" or "notIn")
        {
            return new JsonArray(Value.Split(',').Select(v => v.Trim()).Where(v => v.Length > 0).Select(v => (JsonNode)v!).ToArray());
        }
        if (Op == "between")
        {
            return new JsonArray(Typed(Value), Typed(Value2));
        }
        if (NumberOps.Contains(Op) || Op == "withinLastDays")
        {
            return Typed(Value);
        }
        return Value;
    }

    /// <summary>A number when it reads as one, else the text as typed (a date; or a mistake the server names).</summary>
    private static JsonValue? Typed(string text) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? JsonValue.Create(n) : JsonValue.Create(text.Trim());

    /// <summary>Reads a stored filter back into nodes.</summary>
    public static FilterNode FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var node = From(doc.RootElement);
        return node.IsGroup && node.Kind != FilterKind.Not ? node : new FilterNode { Kind = FilterKind.All, Children = { node } };
    }

    private static FilterNode From(JsonElement e)
    {
        if (e.TryGetProperty("all", out var all) || e.TryGetProperty("any", out all))
        {
            var n = new FilterNode { Kind = e.TryGetProperty("all", out _) ? FilterKind.All : FilterKind.Any };
            n.Children.AddRange(all.EnumerateArray().Select(From));
            return n;
        }
        if (e.TryGetProperty("not", out var not))
        {
            var n = new FilterNode { Kind = FilterKind.Not };
            n.Children.Add(From(not));
            return n;
        }
        if (e.TryGetProperty("country", out var country))
        {
            return new FilterNode { Kind = FilterKind.Country, Countries = country.EnumerateArray().Select(c => c.GetString() ?? "").ToList() };
        }
        if (e.TryGetProperty("engagement", out var engagement))
        {
            return new FilterNode
            {
                Kind = FilterKind.Engagement,
                OperationId = engagement.TryGetProperty("operationId", out var op) ? op.GetString() ?? "" : "",
                Event = engagement.TryGetProperty("event", out var ev) ? ev.GetString() ?? "delivered" : "delivered",
            };
        }
        var node = new FilterNode
        {
            Variable = e.TryGetProperty("variable", out var v) ? v.GetString() ?? "" : "",
            Op = e.TryGetProperty("op", out var o) ? o.GetString() ?? "eq" : "eq",
        };
        if (e.TryGetProperty("value", out var value))
        {
            if (value.ValueKind == JsonValueKind.Array && node.Op == "between")
            {
                node.Value = Text(value[0]);
                node.Value2 = Text(value[1]);
            }
            else if (value.ValueKind == JsonValueKind.Array)
            {
                node.Value = string.Join(", ", value.EnumerateArray().Select(Text));
            }
            else
            {
                node.Value = Text(value);
            }
        }
        return node;
    }

    private static string Text(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString() ?? "" : e.GetRawText();
}

using System.Globalization;
using System.Text;
using BulkCampaigns.Operations;

namespace BulkCampaigns.Recipients.Segments;

/// <summary>
/// A filter compiled to a WHERE clause over the alias <c>d</c> of the segment table, with its parameters. When
/// <see cref="Columns"/> is not empty, the clause reads each variable as a column <c>d.v0</c>, <c>d.v1</c>… that a
/// subquery over the table must select first (<c>expression AS v0</c>, in this order): see <see cref="SegmentSql.Compile"/>.
/// </summary>
public sealed record CompiledFilter(string Where, IReadOnlyList<KeyValuePair<string, object>> Parameters, IReadOnlyList<string> Columns)
{
    public CompiledFilter(string where, IReadOnlyList<KeyValuePair<string, object>> parameters) : this(where, parameters, []) { }
}

/// <summary>
/// Compiles a <see cref="SegmentFilter"/> to SQL. The shape of the conditions (NULL-safe, every leaf 0 or 1, so
/// <c>not</c> is exact) is shared; how a database reads a variable, tests a number or a date is the dialect's.
/// The rows it filters, alias <c>d</c>, hold per recipient its group, address and variables with folded values
/// (<c>Folded</c>): on SQLite the recipients' own rows, on PostgreSQL the side table <c>SegmentValues</c> (see
/// Recipients/README.md). <see cref="SqliteSegmentSql"/> is SQLite's; PostgreSQL gets its own.
/// </summary>
public abstract class SegmentSql
{
    /// <summary>The parameter marker for a name, e.g. <c>$p1</c> (SQLite) or <c>@p1</c> (Npgsql).</summary>
    protected abstract string Parameter(string name);

    /// <summary>The folded text of a variable, NULL when the recipient has none.</summary>
    protected abstract string VariableText(string variable, Func<object, string> bind);

    /// <summary>The variable's value as a number, NULL when it is not written as a number.</summary>
    protected abstract string AsNumber(string text);

    /// <summary>The variable's ISO date (<c>yyyy-MM-dd</c> text), NULL when it does not start with a valid one.</summary>
    protected abstract string AsDate(string text);

    protected abstract string Contains(string text, string part);

    protected abstract string StartsWith(string text, string prefix);

    /// <summary>A table or column name as the database wants it written (PostgreSQL: quoted, as EF made them).</summary>
    protected virtual string Name(string identifier) => identifier;

    /// <summary>True when a condition is true; false when it is false or NULL (a leaf is then 0 or 1, so <c>not</c> is exact).</summary>
    protected virtual string Definitely(string condition) => $"COALESCE({condition}, 0) = 1";

    /// <summary>A bound number as the dialect compares it with <see cref="AsNumber"/>.</summary>
    protected virtual string NumberParameter(string parameter) => parameter;

    /// <summary>
    /// Whether a count should read each variable once per row (<paramref name="hoist"/> in <see cref="Compile"/>):
    /// SQLite evaluates every <c>-&gt;&gt;</c> written, and a date test alone writes its variable six times.
    /// </summary>
    public virtual bool HoistsVariables => false;

    /// <summary>
    /// The filter as SQL. With <paramref name="hoist"/> (and a dialect that <see cref="HoistsVariables"/>), each
    /// variable is read once into <see cref="CompiledFilter.Columns"/> and the clause tests those columns; a count
    /// selects them in a subquery the database must not flatten back into the clause.
    /// </summary>
    public CompiledFilter Compile(SegmentFilter filter, DateOnly today, bool hoist = false)
    {
        var parameters = new List<KeyValuePair<string, object>>();
        string Bind(object value)
        {
            var name = "p" + parameters.Count.ToString(CultureInfo.InvariantCulture);
            parameters.Add(new(name, value));
            return Parameter(name);
        }
        var columns = new List<string>();
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        string Read(string variable)
        {
            if (!hoist || !HoistsVariables)
            {
                return VariableText(variable, Bind);
            }
            if (!aliases.TryGetValue(variable, out var alias))
            {
                alias = "v" + columns.Count.ToString(CultureInfo.InvariantCulture);
                columns.Add(VariableText(variable, Bind) + " AS " + alias);
                aliases[variable] = alias;
            }
            return "d." + alias;
        }
        return new CompiledFilter(Node(filter, Bind, Read, today), parameters, columns);
    }

    private string Node(SegmentFilter filter, Func<object, string> bind, Func<string, string> read, DateOnly today) => filter switch
    {
        AllOf { Filters.Count: 0 } => "1 = 1",
        AnyOf { Filters.Count: 0 } => "1 = 0",
        AllOf all => "(" + string.Join(" AND ", all.Filters.Select(f => Node(f, bind, read, today))) + ")",
        AnyOf any => "(" + string.Join(" OR ", any.Filters.Select(f => Node(f, bind, read, today))) + ")",
        NotOf not => "NOT " + Node(not.Filter, bind, read, today),
        CountryCondition c => Country(c),
        EngagementCondition e => Engagement(e, bind),
        VariableCondition v => Definitely(Variable(v, bind, read(v.Variable), today)),
        _ => throw new ArgumentOutOfRangeException(nameof(filter)),
    };

    private string Variable(VariableCondition c, Func<object, string> bind, string v, DateOnly today)
    {
        string Folded(int i) => bind(TextFold.Fold(c.Texts[i]));
        string List() => string.Join(", ", c.Texts.Select(t => bind(TextFold.Fold(t))));
        var n = AsNumber(v);
        var d = AsDate(v);
        string Number(double x) => NumberParameter(bind(x));
        return c.Op switch
        {
            ValueOp.Eq => $"({v} = {Folded(0)})",
            ValueOp.Neq => $"({v} IS NULL OR {v} <> {Folded(0)})",
            ValueOp.In => $"({v} IN ({List()}))",
            ValueOp.NotIn => $"({v} IS NULL OR {v} NOT IN ({List()}))",
            ValueOp.Contains => $"({Contains(v, Folded(0))})",
            ValueOp.StartsWith => $"({StartsWith(v, Folded(0))})",
            ValueOp.Exists => $"({v} <> '')",
            ValueOp.NotExists => $"({v} IS NULL OR {v} = '')",
            ValueOp.Gt => $"({n} > {Number(c.Low)})",
            ValueOp.Gte => $"({n} >= {Number(c.Low)})",
            ValueOp.Lt => $"({n} < {Number(c.Low)})",
            ValueOp.Lte => $"({n} <= {Number(c.Low)})",
            ValueOp.Between => $"({n} BETWEEN {Number(c.Low)} AND {Number(c.High)})",
            ValueOp.Before => $"({d} < {bind(c.Texts[0])})",
            ValueOp.After => $"({d} > {bind(c.Texts[0])})",
            ValueOp.DateBetween => $"({d} BETWEEN {bind(c.Texts[0])} AND {bind(c.Texts[1])})",
            ValueOp.WithinLastDays => $"({d} BETWEEN {bind(Iso(today.AddDays(-c.Days)))} AND {bind(Iso(today))})",
            _ => throw new ArgumentOutOfRangeException(nameof(c)),
        };
    }

    private static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Address ranges; their bounds are digits and '+', safe to write inline.</summary>
    private string Country(CountryCondition c)
    {
        var address = "d." + Name("Address");
        var ranges = c.Countries.SelectMany(PhoneCountries.Ranges).ToList();
        if (ranges.Count == 0)
        {
            return "1 = 0";
        }
        var sql = new StringBuilder("(");
        for (var i = 0; i < ranges.Count; i++)
        {
            sql.Append(i == 0 ? "" : " OR ").Append('(').Append(address).Append(" >= '").Append(ranges[i].From).Append("' AND ").Append(address).Append(" < '").Append(ranges[i].To).Append("')");
        }
        return sql.Append(')').ToString();
    }

    /// <summary>
    /// Which message statuses count as the event (docs/api.md: Segments). <c>notClicked</c> is a sent message (as
    /// <c>sent</c> counts them) without a click: a recipient who never got the message had nothing to click.
    /// <c>clicked</c> needs no status, a click is proof enough.
    /// </summary>
    public static IReadOnlyList<MessageStatus> StatusesOf(EngagementEvent e) => e switch
    {
        EngagementEvent.Sent or EngagementEvent.NotClicked => [MessageStatus.Sent, MessageStatus.Delivered, MessageStatus.Read, MessageStatus.Undelivered],
        EngagementEvent.Delivered => [MessageStatus.Delivered, MessageStatus.Read],
        EngagementEvent.Failed => [MessageStatus.Failed, MessageStatus.Undelivered, MessageStatus.Unaddressable],
        _ => throw new ArgumentOutOfRangeException(nameof(e), "clicked is not a status"),
    };

    private string Engagement(EngagementCondition e, Func<object, string> bind)
    {
        var condition = e.Event switch
        {
            EngagementEvent.Clicked => $"m.{Name("ClickedAt")} IS NOT NULL",
            EngagementEvent.NotClicked => $"{InStatuses(e.Event)} AND m.{Name("ClickedAt")} IS NULL",
            _ => InStatuses(e.Event),
        };
        return $"EXISTS (SELECT 1 FROM {Name("Messages")} m WHERE m.{Name("OperationId")} = {bind(e.OperationId)} AND m.{Name("Address")} = d.{Name("Address")} AND {condition})";
    }

    private string InStatuses(EngagementEvent e) =>
        $"m.{Name("Status")} IN ({string.Join(", ", StatusesOf(e).Select(s => ((int)s).ToString(CultureInfo.InvariantCulture)))})";
}

/// <summary>SQLite: variables are a JSONB blob (<c>d.Folded</c>) read with <c>-&gt;&gt;</c>; numbers are JSON numbers.</summary>
public sealed class SqliteSegmentSql : SegmentSql
{
    public static readonly SqliteSegmentSql Instance = new();

    public override bool HoistsVariables => true;

    protected override string Parameter(string name) => "$" + name;

    protected override string VariableText(string variable, Func<object, string> bind) =>
        // A JSON path can't quote a name holding a double quote; json_each reads any name, more slowly.
        variable.Contains('"', StringComparison.Ordinal)
            ? $"(SELECT j.value FROM json_each(d.Folded) j WHERE j.key = {bind(variable)})"
            : $"(d.Folded ->> {bind("$.\"" + variable + "\"")})";

    // Written as a JSON number (json_valid also takes "\"3\"", "true" and "[1]", hence the type).
    protected override string AsNumber(string text) =>
        $"(CASE WHEN json_valid({text}) AND json_type({text}) IN ('integer', 'real') THEN CAST({text} AS REAL) END)";

    // date() normalises impossible days ('2026-02-30' becomes '2026-03-02'), so equality checks the date is real.
    protected override string AsDate(string text) =>
        $"(CASE WHEN date(substr({text}, 1, 10)) = substr({text}, 1, 10) AND (length({text}) = 10 OR substr({text}, 11, 1) IN ('t', ' ')) THEN substr({text}, 1, 10) END)";

    protected override string Contains(string text, string part) => $"instr({text}, {part}) > 0";

    protected override string StartsWith(string text, string prefix) => $"substr({text}, 1, length({prefix})) = {prefix}";
}

/// <summary>
/// PostgreSQL: variables are a <c>jsonb</c> column (<c>d."Folded"</c>) read with <c>-&gt;&gt;</c>, which takes any name
/// as a parameter; a number is text written as a JSON number (a regex, then <c>numeric</c>, which never overflows
/// where float8 would); a date is checked by its digits (there is no safe cast to date before PostgreSQL 16).
/// </summary>
public sealed class PostgresSegmentSql : SegmentSql
{
    public static readonly PostgresSegmentSql Instance = new();

    protected override string Parameter(string name) => "@" + name;

    protected override string Name(string identifier) => "\"" + identifier + "\"";

    protected override string Definitely(string condition) => $"COALESCE({condition}, false)";

    protected override string NumberParameter(string parameter) => $"CAST({parameter} AS numeric)";

    // Byte order whatever the database's locale, as every text column here (collation "C").
    protected override string VariableText(string variable, Func<object, string> bind) => $"((d.\"Folded\" ->> {bind(variable)}) COLLATE \"C\")";

    // JSON's number grammar with JSON's whitespace around it (what SQLite's json_valid takes); the exponent is kept
    // to four digits so the cast to numeric can't fail on a value like 1e999999.
    protected override string AsNumber(string text) =>
        $"(CASE WHEN {text} ~ '^[ \\t\\n\\r]*-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]{{1,4}})?[ \\t\\n\\r]*$' THEN CAST(btrim({text}, E' \\t\\n\\r') AS numeric) END)";

    // Year 0000 and days past the month's end (2026-02-30) are not dates; the nested CASE keeps the integer casts
    // away from text the pattern did not accept (AND does not promise an order).
    protected override string AsDate(string text)
    {
        var y = $"CAST(substr({text}, 1, 4) AS integer)";
        var m = $"CAST(substr({text}, 6, 2) AS integer)";
        var d = $"CAST(substr({text}, 9, 2) AS integer)";
        return $$"""
            (CASE WHEN {{text}} ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([t ]|$)' THEN
                CASE WHEN {{y}} > 0 AND {{d}} <= CASE WHEN {{m}} IN (4, 6, 9, 11) THEN 30
                    WHEN {{m}} = 2 THEN CASE WHEN ({{y}} % 4 = 0 AND {{y}} % 100 <> 0) OR {{y}} % 400 = 0 THEN 29 ELSE 28 END
                    ELSE 31 END
                THEN substr({{text}}, 1, 10) END END)
            """;
    }

    protected override string Contains(string text, string part) => $"strpos({text}, {part}) > 0";

    protected override string StartsWith(string text, string prefix) => $"starts_with({text}, {prefix})";
}

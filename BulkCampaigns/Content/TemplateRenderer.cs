using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using Fluid;
using Fluid.Ast;
using Fluid.Ast.BinaryExpressions;
using Fluid.Parser;
using Fluid.Values;

namespace BulkCampaigns.Content;

/// <summary>A Liquid syntax error, with where it is (1-based line and column; 0 when Fluid did not say).</summary>
public sealed class TemplateSyntaxException : Exception
{
    public TemplateSyntaxException(string message) : base(message)
    {
    }

    public TemplateSyntaxException(string message, int line, int column, string reason) : base(message)
    {
        Line = line;
        Column = column;
        Reason = reason;
    }

    public int Line { get; }
    public int Column { get; }

    /// <summary>What is wrong, without the position.</summary>
    public string Reason { get; } = "";
}

/// <summary>A template that parsed but failed while rendering (a division by zero, a loop past the step limit…).</summary>
public sealed class TemplateRenderException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Renders Liquid (Fluid) templates. A template is parsed once and cached by its text; rendering then
/// only binds the recipient's variables. Values are text and are never HTML-encoded here: a message
/// is plain text, and the UI shows it as text.
/// </summary>
/// <remarks>
/// Most SMS templates are text with plain <c>{{var}}</c> outputs, a <c>default</c> or <c>upcase</c>, and
/// perhaps an <c>if</c> on a variable. Those are compiled at parse time into parts joined per recipient,
/// without Fluid's per-render context, scopes and value boxing (several times faster; see the <c>render</c>
/// benchmark). Anything else (loops, other tags and filters, member paths) renders through Fluid. Both paths
/// give the same text; the tests compare them.
/// </remarks>
public sealed partial class TemplateRenderer
{
    private const int MaxCachedTemplates = 10_000;
    private static readonly FluidParser Parser = new();
    private readonly ConcurrentDictionary<string, ParsedTemplate> _cache = new(StringComparer.Ordinal);
    // A message template never needs more; the limit stops "{% for i in (1..100000000) %}" from holding a thread.
    // Names are case-sensitive, as on the compiled path (Fluid ignores case by default): "City" and "city" can be two
    // columns, and a column spelled otherwise is reached by its key (VariableKeys), on both paths alike.
    private readonly TemplateOptions _options = new() { MaxSteps = MaxSteps, ModelNamesComparer = StringComparer.Ordinal };

    /// <summary>Most statements one render may execute.</summary>
    public const int MaxSteps = 100_000;

    /// <summary>Parses (or takes from the cache) a template; throws <see cref="TemplateSyntaxException"/> on a syntax error.</summary>
    public IFluidTemplate Parse(string template) => ParseTemplate(template);

    /// <summary>Like <see cref="Parse"/>, without throwing: the error (with line and column) is returned instead.</summary>
    public bool TryParse(string template, out IFluidTemplate? parsed, out TemplateSyntaxException? error)
    {
        try
        {
            parsed = ParseTemplate(template);
            error = null;
            return true;
        }
        catch (TemplateSyntaxException ex)
        {
            parsed = null;
            error = ex;
            return false;
        }
    }

    private ParsedTemplate ParseTemplate(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (_cache.TryGetValue(template, out var cached))
        {
            return cached;
        }
        if (!Parser.TryParse(template, out var fluid, out var error))
        {
            throw SyntaxError(error);
        }
        new RangeGuard().VisitTemplate(fluid);
        var filters = new FilterNames();
        filters.VisitTemplate(fluid);
        var unknown = filters.Names.Where(name => !_options.Filters.TryGetValue(name, out _)).ToArray();
        var parsed = new ParsedTemplate(fluid, FastTemplate.TryCompile(fluid, _options), unknown);
        if (_cache.Count >= MaxCachedTemplates)
        {
            _cache.Clear();
        }
        return _cache.GetOrAdd(template, parsed);
    }

    /// <summary>
    /// What is wrong with a template, each with where it is: its syntax error (an unknown tag is one), or
    /// the filters Liquid does not know. Fluid would render an unknown filter as if it were not there
    /// (<c>{{ name | defualt: 'there' }}</c> prints nothing), so a template with one must not be sent.
    /// Computed when the template is parsed, not per render.
    /// </summary>
    public IReadOnlyList<TemplateProblem> Problems(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        ParsedTemplate parsed;
        try
        {
            parsed = ParseTemplate(template);
        }
        catch (TemplateSyntaxException ex)
        {
            return [new TemplateProblem(ex.Message, ex.Line, ex.Column)];
        }
        if (parsed.UnknownFilters.Length == 0)
        {
            return [];
        }
        var problems = new List<TemplateProblem>(parsed.UnknownFilters.Length);
        foreach (var name in parsed.UnknownFilters)
        {
            var (line, column) = FilterPosition(template, name);
            var suggestion = ClosestFilter(name) is { } close ? $" Did you mean '{close}'?" : "";
            var where = line > 0 ? $" at line {line}, column {column}" : "";
            problems.Add(new TemplateProblem($"Unknown Liquid filter '{name}'{where}: recipients would get the value without it.{suggestion}", line, column, name));
        }
        return problems;
    }

    /// <summary>Where "| name" first appears (1-based line and column of the name); 0, 0 when it can't be found.</summary>
    private static (int Line, int Column) FilterPosition(string template, string name)
    {
        var match = Regex.Match(template, @"\|\s*" + Regex.Escape(name) + @"(?![A-Za-z0-9_-])", RegexOptions.None, TimeSpan.FromMilliseconds(100));
        if (!match.Success)
        {
            return (0, 0);
        }
        var at = match.Index + match.Length - name.Length;
        var lineStart = template.LastIndexOf('\n', Math.Max(0, at - 1)) + 1;
        var line = 1 + template.AsSpan(0, at).Count('\n');
        return (line, at - lineStart + 1);
    }

    private string? ClosestFilter(string name)
    {
        string? best = null;
        var bestDistance = 3;
        foreach (var known in KnownFilters)
        {
            var distance = EditDistance(name, known);
            if (distance < bestDistance && _options.Filters.TryGetValue(known, out _))
            {
                (best, bestDistance) = (known, distance);
            }
        }
        return best;
    }

    // Fluid's filter collection can't be listed; these are the standard Liquid filters it registers.
    private static readonly string[] KnownFilters =
    [
        "default", "upcase", "downcase", "capitalize", "strip", "lstrip", "rstrip", "truncate", "truncatewords", "replace",
        "replace_first", "remove", "remove_first", "append", "prepend", "split", "join", "size", "first", "last", "slice",
        "date", "round", "ceil", "floor", "abs", "plus", "minus", "times", "divided_by", "modulo", "escape", "url_encode",
        "newline_to_br", "strip_html", "strip_newlines", "sort", "uniq", "reverse", "map", "where", "compact", "concat",
    ];

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>True when the template renders through the compiled fast path rather than Fluid.</summary>
    public static bool IsCompiled(IFluidTemplate template) => template is ParsedTemplate { Fast: not null };

    public string Render(string template, IReadOnlyDictionary<string, string> variables, string? address = null) =>
        Render(ParseTemplate(template), variables, address);

    public string Render(IFluidTemplate template, IReadOnlyDictionary<string, string> variables, string? address = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(variables);
        if (template is ParsedTemplate { Fast: { } fast })
        {
            return fast.Render(variables, address);
        }
        return RenderWithFluid(template, variables, address);
    }

    /// <summary>Renders through Fluid even when a fast path exists; the reference the fast path is held to.</summary>
    public string RenderWithFluid(IFluidTemplate template, IReadOnlyDictionary<string, string> variables, string? address = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(variables);
        var context = new TemplateContext(_options);
        foreach (var (name, value) in variables)
        {
            context.SetValue(name, value);
        }
        // Each column also under its key (see VariableKeys.Key): a column spelled so wins, then the first column.
        HashSet<string>? aliased = null;
        foreach (var (name, value) in variables)
        {
            if (!VariableKeys.HasKey(name, name) && VariableKeys.Key(name) is { } key && !variables.ContainsKey(key) && (aliased ??= new(StringComparer.Ordinal)).Add(key))
            {
                context.SetValue(key, value);
            }
        }
        if (address is not null)
        {
            context.SetValue("address", address);
        }
        var fluid = template is ParsedTemplate parsed ? parsed.Fluid : template;
        try
        {
            return fluid.Render(context);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArithmeticException or FormatException or ArgumentException or NotSupportedException or IOException)
        {
            var reason = ex is InvalidOperationException && ex.Message.Contains("recursion", StringComparison.OrdinalIgnoreCase)
                ? $"it runs more than {MaxSteps:N0} steps"
                : ex.Message.TrimEnd('.');
            throw new TemplateRenderException($"The template could not be rendered: {reason}.", ex);
        }
    }

    /// <summary>
    /// The variables a template reads, each with whether every read of it has a <c>default</c>;
    /// names the template assigns itself (<c>assign</c>, <c>capture</c>, <c>for</c>) are left out.
    /// </summary>
    public IReadOnlyList<TemplateVariable> Variables(IFluidTemplate template)
    {
        var fluid = template is ParsedTemplate parsed ? parsed.Fluid : template;
        var walker = new VariableWalker();
        walker.VisitTemplate(fluid);
        return walker.Result();
    }

    private static TemplateSyntaxException SyntaxError(string fluidMessage)
    {
        // Fluid says "<reason> at (line:column)" followed by "Source:" and the line.
        var firstLine = fluidMessage.Split('\n', 2)[0].TrimEnd('\r');
        var match = PositionPattern().Match(firstLine);
        if (!match.Success)
        {
            return new TemplateSyntaxException($"Liquid syntax error: {firstLine}");
        }
        var line = int.Parse(match.Groups["line"].Value, CultureInfo.InvariantCulture);
        var column = int.Parse(match.Groups["column"].Value, CultureInfo.InvariantCulture);
        var reason = match.Groups["reason"].Value.Trim();
        return new TemplateSyntaxException($"Liquid syntax error at line {line}, column {column}: {reason}.", line, column, reason);
    }

    [GeneratedRegex(@"^(?<reason>.*?)\s+at \((?<line>\d+):(?<column>\d+)\)\s*$")]
    private static partial Regex PositionPattern();

    /// <summary>What <see cref="Parse"/> hands out: Fluid's template, plus its compiled form when it has one.</summary>
    private sealed class ParsedTemplate(IFluidTemplate fluid, FastTemplate? fast, string[] unknownFilters) : IFluidTemplate
    {
        public IFluidTemplate Fluid { get; } = fluid;
        public FastTemplate? Fast { get; } = fast;
        public string[] UnknownFilters { get; } = unknownFilters;

        public ValueTask RenderAsync(TextWriter writer, TextEncoder encoder, TemplateContext context) =>
            Fluid.RenderAsync(writer, encoder, context);
    }

    /// <summary>
    /// Fluid builds a range's every item before a loop starts, so "(1..100000000)" costs gigabytes whatever
    /// the step limit says: ranges must have fixed bounds and at most <see cref="MaxRangeItems"/> items.
    /// </summary>
    private sealed class RangeGuard : AstVisitor
    {
        protected override Expression VisitRangeExpression(RangeExpression rangeExpression)
        {
            if (rangeExpression.From is not LiteralExpression { Value: NumberValue from } ||
                rangeExpression.To is not LiteralExpression { Value: NumberValue to })
            {
                throw new TemplateSyntaxException($"Liquid ranges must have fixed bounds, e.g. (1..5), and at most {MaxRangeItems:N0} items.");
            }
            if (to.ToNumberValue() - from.ToNumberValue() >= MaxRangeItems)
            {
                throw new TemplateSyntaxException($"Liquid ranges have at most {MaxRangeItems:N0} items.");
            }
            return base.VisitRangeExpression(rangeExpression);
        }
    }

    /// <summary>The names of the filters a template uses, in order of first use.</summary>
    private sealed class FilterNames : AstVisitor
    {
        public List<string> Names { get; } = [];

        protected override Expression VisitFilterExpression(FilterExpression filterExpression)
        {
            if (!Names.Contains(filterExpression.Name))
            {
                Names.Add(filterExpression.Name);
            }
            return base.VisitFilterExpression(filterExpression);
        }
    }

    /// <summary>Most items a <c>(a..b)</c> range in a template may have.</summary>
    public const int MaxRangeItems = 1_000;

    private sealed class VariableWalker : AstVisitor
    {
        private readonly Dictionary<string, bool> _allDefaulted = new(StringComparer.Ordinal);
        private readonly List<string> _order = [];
        private readonly HashSet<string> _local = new(StringComparer.Ordinal) { "forloop", "tablerowloop", "empty", "blank", "nil", "null" };
        private int _underDefault;

        public List<TemplateVariable> Result() =>
            _order.Where(n => !_local.Contains(n)).Select(n => new TemplateVariable(n, _allDefaulted[n])).ToList();

        protected override Expression VisitMemberExpression(MemberExpression memberExpression)
        {
            if (memberExpression.Segments.Count > 0 && memberExpression.Segments[0] is IdentifierSegment first)
            {
                var name = first.Identifier;
                if (!_allDefaulted.TryGetValue(name, out var defaulted))
                {
                    _order.Add(name);
                    _allDefaulted[name] = _underDefault > 0;
                }
                else if (defaulted && _underDefault == 0)
                {
                    _allDefaulted[name] = false;
                }
            }
            return base.VisitMemberExpression(memberExpression);
        }

        protected override Expression VisitFilterExpression(FilterExpression filterExpression)
        {
            // The input of a default filter is covered by it; its arguments are not.
            var isDefault = filterExpression.Name == "default";
            if (isDefault)
            {
                _underDefault++;
            }
            Visit(filterExpression.Input);
            if (isDefault)
            {
                _underDefault--;
            }
            foreach (var parameter in filterExpression.Parameters)
            {
                Visit(parameter.Expression);
            }
            return filterExpression;
        }

        protected override Statement VisitAssignStatement(AssignStatement assignStatement)
        {
            _local.Add(assignStatement.Identifier);
            return base.VisitAssignStatement(assignStatement);
        }

        protected override Statement VisitCaptureStatement(CaptureStatement captureStatement)
        {
            _local.Add(captureStatement.Identifier);
            return base.VisitCaptureStatement(captureStatement);
        }

        protected override Statement VisitForStatement(ForStatement forStatement)
        {
            _local.Add(forStatement.Identifier);
            return base.VisitForStatement(forStatement);
        }
    }
}

/// <summary>A problem of a template: what, and where (1-based; 0 when unknown). <paramref name="Filter"/> names an unknown filter.</summary>
public sealed record TemplateProblem(string Message, int Line, int Column, string? Filter = null);

/// <summary>A variable a template reads; <paramref name="HasDefault"/> when every read has a <c>default</c>.</summary>
public sealed record TemplateVariable(string Name, bool HasDefault);

/// <summary>
/// A template made only of text, <c>{{ name | filter … }}</c> outputs with filters from a small known set,
/// and <c>if</c> / <c>elsif</c> / <c>else</c> / <c>unless</c> on a variable (present, or <c>==</c> / <c>!=</c> a
/// text), compiled to parts. Values follow Fluid's rules: a missing variable is nil, which prints as nothing,
/// is false in a condition, equals no text, and which <c>default</c> replaces, as it replaces an empty text.
/// </summary>
internal sealed class FastTemplate
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "empty", "blank", "nil", "null", "true", "false", "forloop", "tablerowloop",
    };

    [ThreadStatic]
    private static string?[]? _values;

    [ThreadStatic]
    private static StringBuilder? _builder;

    // Text and outputs only: joined in one exact-length copy. Otherwise a tree with conditions.
    private readonly Part[]? _parts;
    private readonly Node[]? _nodes;

    private FastTemplate(Part[]? parts, Node[]? nodes)
    {
        _parts = parts;
        _nodes = nodes;
    }

    private enum Op
    {
        Default,
        Upcase,
        Downcase,
    }

    private enum Test
    {
        Present,
        EqualsText,
        DiffersFromText,
    }

    private readonly record struct Filter(Op Op, string? Argument);

    /// <summary>Either literal <see cref="Text"/>, or the variable <see cref="Name"/> with its filters.</summary>
    private sealed record Part(string? Text, string? Name, Filter[] Filters)
    {
        public bool IsAddress { get; } = Name == "address";

        public bool MayBeKey { get; } = Name is not null && VariableKeys.IsKey(Name);
    }

    private abstract record Node;

    private sealed record PartNode(Part Part) : Node;

    private sealed record Condition(Part Variable, Test Test, string? Text, bool Negate);

    private sealed record Branch(Condition Condition, Node[] Body);

    private sealed record IfNode(Branch[] Branches, Node[]? Else) : Node;

    public static FastTemplate? TryCompile(IFluidTemplate template, TemplateOptions options)
    {
        if (template is not FluidTemplate fluid || CompileList(fluid.Statements, options) is not { } nodes)
        {
            return null;
        }
        return nodes.All(n => n is PartNode)
            ? new FastTemplate(nodes.Cast<PartNode>().Select(n => n.Part).ToArray(), null)
            : new FastTemplate(null, nodes);
    }

    private static Node[]? CompileList(IReadOnlyList<Statement> statements, TemplateOptions options)
    {
        var nodes = new List<Node>();
        foreach (var statement in statements)
        {
            switch (statement)
            {
                case TextSpanStatement text:
                    // Let Fluid itself produce the text, so whitespace control ({{- -}}) is exactly its own.
                    using (var writer = new StringWriter(CultureInfo.InvariantCulture))
                    {
                        var completion = text.WriteToAsync(writer, NullEncoder.Default, new TemplateContext(options));
                        if (!completion.IsCompletedSuccessfully)
                        {
                            return null;
                        }
                        if (writer.ToString() is { Length: > 0 } literal)
                        {
                            nodes.Add(new PartNode(new Part(literal, null, [])));
                        }
                    }
                    break;
                case OutputStatement output when TryCompileOutput(output) is { } part:
                    nodes.Add(new PartNode(part));
                    break;
                case IfStatement ifStatement:
                    var branches = new List<Branch>();
                    if (CompileBranch(ifStatement.Condition, ifStatement.Statements, negate: false, options) is not { } first)
                    {
                        return null;
                    }
                    branches.Add(first);
                    foreach (var elseIf in ifStatement.ElseIfs ?? [])
                    {
                        if (CompileBranch(elseIf.Condition, elseIf.Statements, negate: false, options) is not { } branch)
                        {
                            return null;
                        }
                        branches.Add(branch);
                    }
                    Node[]? elseNodes = null;
                    if (ifStatement.Else is { } elseStatement && (elseNodes = CompileList(elseStatement.Statements, options)) is null)
                    {
                        return null;
                    }
                    nodes.Add(new IfNode([.. branches], elseNodes));
                    break;
                case UnlessStatement unless:
                    if (CompileBranch(unless.Condition, unless.Statements, negate: true, options) is not { } unlessBranch)
                    {
                        return null;
                    }
                    Node[]? unlessElse = null;
                    if (unless.Else is { } otherwise && (unlessElse = CompileList(otherwise.Statements, options)) is null)
                    {
                        return null;
                    }
                    nodes.Add(new IfNode([unlessBranch], unlessElse));
                    break;
                default:
                    return null;
            }
        }
        return [.. nodes];
    }

    private static Branch? CompileBranch(Expression condition, IReadOnlyList<Statement> statements, bool negate, TemplateOptions options)
    {
        Condition? compiled = condition switch
        {
            MemberExpression member when Variable(member) is { } variable => new Condition(variable, Test.Present, null, negate),
            EqualBinaryExpression equal when Comparison(equal.Left, equal.Right) is var (variable, text) && variable is not null =>
                new Condition(variable, Test.EqualsText, text, negate),
            NotEqualBinaryExpression notEqual when Comparison(notEqual.Left, notEqual.Right) is var (variable, text) && variable is not null =>
                new Condition(variable, Test.DiffersFromText, text, negate),
            _ => null,
        };
        if (compiled is null || CompileList(statements, options) is not { } body)
        {
            return null;
        }
        return new Branch(compiled, body);
    }

    private static (Part? Variable, string? Text) Comparison(Expression left, Expression right) => (left, right) switch
    {
        (MemberExpression member, LiteralExpression { Value: StringValue text }) => (Variable(member), text.ToStringValue()),
        (LiteralExpression { Value: StringValue text }, MemberExpression member) => (Variable(member), text.ToStringValue()),
        _ => (null, null),
    };

    private static Part? Variable(MemberExpression member) =>
        member is { Segments: [IdentifierSegment { Identifier: var name }] } && !Keywords.Contains(name) ? new Part(null, name, []) : null;

    private static Part? TryCompileOutput(OutputStatement output)
    {
        // Filters nest: "a | f | g" is g(f(a)); unwrap to the innermost expression.
        var filters = new List<Filter>();
        var expression = output.Expression;
        while (expression is FilterExpression filter)
        {
            Filter compiled;
            switch (filter.Name)
            {
                case "default" when filter.Parameters.Count == 1 && filter.Parameters[0].Name is null or "" &&
                                    filter.Parameters[0].Expression is LiteralExpression { Value: StringValue literal }:
                    compiled = new Filter(Op.Default, literal.ToStringValue());
                    break;
                case "upcase" when filter.Parameters.Count == 0:
                    compiled = new Filter(Op.Upcase, null);
                    break;
                case "downcase" when filter.Parameters.Count == 0:
                    compiled = new Filter(Op.Downcase, null);
                    break;
                default:
                    return null;
            }
            filters.Add(compiled);
            expression = filter.Input;
        }
        if (output.Filters is { Count: > 0 } || expression is not MemberExpression member || Variable(member) is not { } variable)
        {
            return null;
        }
        filters.Reverse();
        return variable with { Filters = [.. filters] };
    }

    public string Render(IReadOnlyDictionary<string, string> variables, string? address)
    {
        if (_parts is null)
        {
            var builder = _builder ??= new StringBuilder(256);
            builder.Clear();
            Append(builder, _nodes!, variables, address);
            var text = builder.ToString();
            if (builder.Capacity > 16 * 1024)
            {
                _builder = null; // don't keep a huge buffer alive on the thread after a rare long message
            }
            return text;
        }

        // Resolve every part first, then copy them once into a string of the exact length.
        var parts = _parts;
        var values = _values;
        if (values is null || values.Length < parts.Length)
        {
            values = _values = new string?[Math.Max(parts.Length, 16)];
        }
        var length = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            var value = parts[i].Text ?? Resolve(parts[i], variables, address);
            values[i] = value;
            length += value?.Length ?? 0;
        }
        var result = string.Create(length, (values, parts.Length), static (span, state) =>
        {
            var (resolved, count) = state;
            for (var i = 0; i < count; i++)
            {
                if (resolved[i] is { } value)
                {
                    value.CopyTo(span);
                    span = span[value.Length..];
                }
            }
        });
        Array.Clear(values, 0, parts.Length); // don't keep recipients' values alive on the thread
        return result;
    }

    private static void Append(StringBuilder builder, Node[] nodes, IReadOnlyDictionary<string, string> variables, string? address)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case PartNode { Part: var part }:
                    builder.Append(part.Text ?? Resolve(part, variables, address));
                    break;
                case IfNode ifNode:
                    var taken = false;
                    foreach (var branch in ifNode.Branches)
                    {
                        if (Holds(branch.Condition, variables, address))
                        {
                            Append(builder, branch.Body, variables, address);
                            taken = true;
                            break;
                        }
                    }
                    if (!taken && ifNode.Else is { } otherwise)
                    {
                        Append(builder, otherwise, variables, address);
                    }
                    break;
            }
        }
    }

    private static bool Holds(Condition condition, IReadOnlyDictionary<string, string> variables, string? address)
    {
        var value = Resolve(condition.Variable, variables, address);
        var holds = condition.Test switch
        {
            Test.Present => value is not null,
            Test.EqualsText => value is not null && string.Equals(value, condition.Text, StringComparison.Ordinal),
            _ => !(value is not null && string.Equals(value, condition.Text, StringComparison.Ordinal)),
        };
        return holds != condition.Negate;
    }

    private static string? Resolve(Part part, IReadOnlyDictionary<string, string> variables, string? address)
    {
        // Like the Fluid path, which sets "address" after the variables: the address wins.
        string? value;
        if (address is not null && part.IsAddress)
        {
            value = address;
        }
        else if (!variables.TryGetValue(part.Name!, out value))
        {
            // Only on a miss: the name may be the key of a column spelled otherwise ("first_name" for "First Name").
            value = part.MayBeKey ? VariableKeys.Find(variables, part.Name!) : null;
        }
        foreach (var filter in part.Filters)
        {
            value = filter.Op switch
            {
                Op.Default => string.IsNullOrEmpty(value) ? filter.Argument : value,
                Op.Upcase => (value ?? "").ToUpperInvariant(),
                Op.Downcase => (value ?? "").ToLowerInvariant(),
                _ => value,
            };
        }
        return value;
    }
}

/// <summary>
/// How a column whose name is not a Liquid name ("First Name", "E-mail address", "Prénom") is reached in a
/// template: by its key, the name in lower case, accents dropped, every run of other characters turned into
/// one <c>_</c> and none at the ends ("First Name" → <c>first_name</c>; <c>_</c> is put before a leading digit).
/// Every column is also reachable by its key. When a column is itself spelled like that key, the key is that
/// column; otherwise, when several columns have the same key, it is the first of them (in file order).
/// </summary>
public static class VariableKeys
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "empty", "blank", "nil", "null", "true", "false", "forloop", "tablerowloop",
    };

    /// <summary>The key of a column name; null when nothing of it is left (a name of symbols or non-Latin letters only).</summary>
    public static string? Key(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var source = name;
        foreach (var c in name)
        {
            if (c > 127)
            {
                source = WithoutAccents(name);
                break;
            }
        }
        var builder = new StringBuilder(source.Length + 1);
        var separator = false;
        foreach (var c in source)
        {
            if (IsAsciiLetterOrDigit(c))
            {
                if (builder.Length == 0 && char.IsAsciiDigit(c))
                {
                    builder.Append('_');
                }
                else if (separator && builder.Length > 0)
                {
                    builder.Append('_');
                }
                separator = false;
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                separator = true;
            }
        }
        return builder.Length == 0 || Keywords.Contains(builder.ToString()) ? null : builder.ToString();
    }

    /// <summary>True when <paramref name="name"/> could be some column's key (it is in the form <see cref="Key"/> gives).</summary>
    public static bool IsKey(string name) => name.Length > 0 && Key(name) == name;

    /// <summary>True when Liquid reads <paramref name="name"/> as one variable name, so <c>{{ name }}</c> works as it is.</summary>
    public static bool IsLiquidName(string name)
    {
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] == '_') || Keywords.Contains(name))
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!(IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// What a template writes to read each column of <paramref name="columns"/> (in their order): the column's own name
    /// when Liquid reads it as it is, else its key when the key leads to that column; null when neither works.
    /// </summary>
    public static IReadOnlyList<(string Column, string? Placeholder)> Placeholders(IReadOnlyList<string> columns)
    {
        var exact = new HashSet<string>(columns, StringComparer.Ordinal);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<(string, string?)>(columns.Count);
        foreach (var column in columns)
        {
            var key = Key(column);
            // The key leads to this column unless a column is spelled like it, or an earlier column has it.
            var keyIsMine = key is not null && (key == column || (!exact.Contains(key) && taken.Add(key)));
            result.Add((column, IsLiquidName(column) ? column : keyIsMine ? key : null));
        }
        return result;
    }

    /// <summary>The columns' names and their keys: every name a template may read from recipients with these columns.</summary>
    public static IEnumerable<string> WithKeys(IEnumerable<string> columns)
    {
        foreach (var column in columns)
        {
            yield return column;
            if (Key(column) is { } key && key != column)
            {
                yield return key;
            }
        }
    }

    /// <summary>The value of the first column whose key is <paramref name="key"/> (the caller looked the exact name up already).</summary>
    internal static string? Find(IReadOnlyDictionary<string, string> variables, string key)
    {
        foreach (var (name, value) in variables)
        {
            if (HasKey(name, key))
            {
                return value;
            }
        }
        return null;
    }

    /// <summary><c>Key(name) == key</c>, without allocating for ASCII names: it runs for every column on a miss.</summary>
    internal static bool HasKey(string name, string key)
    {
        var j = 0;
        var separator = false;
        var started = false;
        foreach (var c in name)
        {
            if (c > 127)
            {
                return Key(name) == key;
            }
            if (!IsAsciiLetterOrDigit(c))
            {
                separator = true;
                continue;
            }
            if (!started)
            {
                started = true;
                if (char.IsAsciiDigit(c))
                {
                    if (j >= key.Length || key[j] != '_')
                    {
                        return false;
                    }
                    j++;
                }
            }
            else if (separator)
            {
                if (j >= key.Length || key[j] != '_')
                {
                    return false;
                }
                j++;
            }
            separator = false;
            if (j >= key.Length || key[j] != char.ToLowerInvariant(c))
            {
                return false;
            }
            j++;
        }
        return started && j == key.Length;
    }

    private static bool IsAsciiLetterOrDigit(char c) => char.IsAsciiLetterOrDigit(c);

    private static string WithoutAccents(string name)
    {
        var decomposed = name.Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }
}

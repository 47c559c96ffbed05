using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using Fluid;
using Fluid.Ast;
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

/// <summary>
/// Renders Liquid (Fluid) templates. A template is parsed once and cached by its text; rendering then
/// only binds the recipient's variables. Values are text and are never HTML-encoded here: a message
/// is plain text, and the UI shows it as text.
/// </summary>
/// <remarks>
/// Most SMS templates are text with plain <c>{{var}}</c> outputs and a <c>default</c> or <c>upcase</c>.
/// Those are compiled at parse time into a list of parts joined per recipient, without Fluid's per-render
/// context, scopes and value boxing (several times faster; see the <c>render</c> benchmark). Anything else
/// (tags, other filters, member paths) renders through Fluid. Both paths give the same text; the tests
/// compare them.
/// </remarks>
public sealed partial class TemplateRenderer
{
    private const int MaxCachedTemplates = 10_000;
    private static readonly FluidParser Parser = new();
    private readonly ConcurrentDictionary<string, ParsedTemplate> _cache = new(StringComparer.Ordinal);
    private readonly TemplateOptions _options = new();

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
        var parsed = new ParsedTemplate(fluid, FastTemplate.TryCompile(fluid, _options));
        if (_cache.Count >= MaxCachedTemplates)
        {
            _cache.Clear();
        }
        return _cache.GetOrAdd(template, parsed);
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
        if (address is not null)
        {
            context.SetValue("address", address);
        }
        var fluid = template is ParsedTemplate parsed ? parsed.Fluid : template;
        return fluid.Render(context);
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
    private sealed class ParsedTemplate(IFluidTemplate fluid, FastTemplate? fast) : IFluidTemplate
    {
        public IFluidTemplate Fluid { get; } = fluid;
        public FastTemplate? Fast { get; } = fast;

        public ValueTask RenderAsync(TextWriter writer, TextEncoder encoder, TemplateContext context) =>
            Fluid.RenderAsync(writer, encoder, context);
    }

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

/// <summary>A variable a template reads; <paramref name="HasDefault"/> when every read has a <c>default</c>.</summary>
public sealed record TemplateVariable(string Name, bool HasDefault);

/// <summary>
/// A template made only of text and <c>{{ name | filter … }}</c> outputs with filters from a small
/// known set, compiled to parts. Values follow Fluid's rules: a missing variable is nil, which prints
/// as nothing and which <c>default</c> replaces, as it replaces an empty text.
/// </summary>
internal sealed class FastTemplate
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "empty", "blank", "nil", "null", "true", "false", "forloop", "tablerowloop",
    };

    [ThreadStatic]
    private static string?[]? _values;

    private readonly Part[] _parts;

    private FastTemplate(Part[] parts) => _parts = parts;

    private enum Op
    {
        Default,
        Upcase,
        Downcase,
    }

    private readonly record struct Filter(Op Op, string? Argument);

    /// <summary>Either literal <see cref="Text"/>, or the variable <see cref="Name"/> with its filters.</summary>
    private sealed record Part(string? Text, string? Name, Filter[] Filters)
    {
        public bool IsAddress { get; } = Name == "address";
    }

    public static FastTemplate? TryCompile(IFluidTemplate template, TemplateOptions options)
    {
        if (template is not FluidTemplate fluid)
        {
            return null;
        }
        var parts = new List<Part>();
        foreach (var statement in fluid.Statements)
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
                            parts.Add(new Part(literal, null, []));
                        }
                    }
                    break;
                case OutputStatement output when TryCompileOutput(output) is { } part:
                    parts.Add(part);
                    break;
                default:
                    return null;
            }
        }
        return new FastTemplate([.. parts]);
    }

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
        if (output.Filters is { Count: > 0 })
        {
            return null;
        }
        if (expression is not MemberExpression { Segments: [IdentifierSegment { Identifier: var name }] } || Keywords.Contains(name))
        {
            return null;
        }
        filters.Reverse();
        return new Part(null, name, [.. filters]);
    }

    public string Render(IReadOnlyDictionary<string, string> variables, string? address)
    {
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
            value = null;
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

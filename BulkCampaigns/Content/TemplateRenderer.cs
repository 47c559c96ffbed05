using System.Collections.Concurrent;
using Fluid;

namespace BulkCampaigns.Content;

/// <summary>A Liquid syntax error, with where it is.</summary>
public sealed class TemplateSyntaxException(string message) : Exception(message);

/// <summary>
/// Renders Liquid (Fluid) templates. A template is parsed once and cached by its text; rendering then
/// only binds the recipient's variables. Values are text and are never HTML-encoded here: a message
/// is plain text, and the UI shows it as text.
/// </summary>
public sealed class TemplateRenderer
{
    private static readonly FluidParser Parser = new();
    private readonly ConcurrentDictionary<string, IFluidTemplate> _cache = new(StringComparer.Ordinal);
    private readonly TemplateOptions _options = new();

    /// <summary>Parses (or takes from the cache) a template; throws <see cref="TemplateSyntaxException"/> on a syntax error.</summary>
    public IFluidTemplate Parse(string template)
    {
        if (_cache.TryGetValue(template, out var parsed))
        {
            return parsed;
        }
        if (!Parser.TryParse(template, out parsed, out var error))
        {
            throw new TemplateSyntaxException(error);
        }
        if (_cache.Count > 10_000)
        {
            _cache.Clear();
        }
        return _cache.GetOrAdd(template, parsed);
    }

    public string Render(string template, IReadOnlyDictionary<string, string> variables, string? address = null) =>
        Render(Parse(template), variables, address);

    public string Render(IFluidTemplate template, IReadOnlyDictionary<string, string> variables, string? address = null)
    {
        var context = new TemplateContext(_options);
        foreach (var (name, value) in variables)
        {
            context.SetValue(name, value);
        }
        if (address is not null)
        {
            context.SetValue("address", address);
        }
        return template.Render(context);
    }
}

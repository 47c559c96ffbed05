using BulkCampaigns.Content;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Content;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class TemplateRendererTests
{
    private readonly TemplateRenderer _renderer = new();

    private static Dictionary<string, string> Vars(params (string Name, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);

    [Fact]
    public void A_variable_is_replaced_by_the_recipients_value()
    {
        var text = _renderer.Render("Hi {{first_name}}, your code is {{ code }}.", Vars(("first_name", "Ana"), ("code", "X7")));

        Assert.Equal("Hi Ana, your code is X7.", text);
    }

    [Theory]
    [InlineData("Hi {{ name | default: 'there' }}!", "Hi there!")]
    [InlineData("Hi {{ name | default: \"friend\" | upcase }}!", "Hi FRIEND!")]
    [InlineData("Hi {{ name }}!", "Hi !")]
    [InlineData("{% if name %}Hi {{ name }}{% else %}Hello{% endif %}", "Hello")]
    [InlineData("{% unless vip %}Join VIP{% endunless %}", "Join VIP")]
    public void A_missing_variable_prints_nothing_unless_a_default_or_a_condition_says_otherwise(string template, string expected)
    {
        Assert.Equal(expected, _renderer.Render(template, Vars()));
    }

    [Fact]
    public void An_empty_value_takes_the_default_but_a_present_one_wins()
    {
        const string template = "Hi {{ name | default: 'there' }}";

        Assert.Equal("Hi there", _renderer.Render(template, Vars(("name", ""))));
        Assert.Equal("Hi Bo", _renderer.Render(template, Vars(("name", "Bo"))));
    }

    [Theory]
    [InlineData("gold", "Gold member")]
    [InlineData("silver", "Member")]
    public void Conditionals_choose_by_value(string tier, string expected)
    {
        var text = _renderer.Render("{% if tier == 'gold' %}Gold member{% else %}Member{% endif %}", Vars(("tier", tier)));

        Assert.Equal(expected, text);
    }

    [Fact]
    public void Upcase_and_the_address_work_and_values_are_never_html_encoded()
    {
        var text = _renderer.Render("{{ name | upcase }} <{{ address }}> {{ note }}", Vars(("name", "zoë"), ("note", "<script>&\"")), "+15551230000");

        Assert.Equal("ZOË <+15551230000> <script>&\"", text);
    }

    [Theory]
    [InlineData("Hi {{ name", 1, 11)]
    [InlineData("Line one\nHi {{ name | }}", 2, 13)]
    [InlineData("ok\n\n  {% endif %}", 3, 11)]
    [InlineData("{% if x %}never closed", 1, 23)]
    public void A_syntax_error_names_its_line_and_column(string template, int line, int column)
    {
        var error = Assert.Throws<TemplateSyntaxException>(() => _renderer.Parse(template));

        Assert.Equal(line, error.Line);
        Assert.Equal(column, error.Column);
        Assert.Contains($"line {line}, column {column}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{% for i in (1..1000) %}{% for j in (1..1000) %}x{% endfor %}{% endfor %}", "steps")]
    [InlineData("{{ n | divided_by: 0 }}", "divide by zero")]
    public void A_template_that_fails_while_rendering_says_why(string template, string reason)
    {
        var error = Assert.Throws<TemplateRenderException>(() => _renderer.Render(template, Vars(("n", "5"))));

        Assert.Contains(reason, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("{% for i in (1..100000000) %}x{% endfor %}")]
    [InlineData("{% for i in (1..n) %}x{% endfor %}")]
    public void A_loop_over_a_huge_or_open_range_is_refused_before_it_runs(string template)
    {
        var error = Assert.Throws<TemplateSyntaxException>(() => _renderer.Parse(template));

        Assert.Contains("range", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_small_fixed_range_loops()
    {
        Assert.Equal("123", _renderer.Render("{% for i in (1..3) %}{{ i }}{% endfor %}", Vars()));
    }

    [Fact]
    public void A_template_is_parsed_once_and_then_taken_from_the_cache()
    {
        var first = _renderer.Parse("Hi {{ name }}");
        var second = _renderer.Parse("Hi {{ name }}");

        Assert.Same(first, second);
    }

    [Fact]
    public void The_variables_a_template_reads_are_listed_with_whether_a_default_covers_them()
    {
        var template = _renderer.Parse("{{ a }} {{ b | default: 'x' }} {% if c %}{{ c | default: 'y' }}{% endif %} {% assign d = 'z' %}{{ d }} {% for i in list %}{{ i }}{% endfor %}");

        var variables = _renderer.Variables(template);

        Assert.Equal(
            [new TemplateVariable("a", false), new TemplateVariable("b", true), new TemplateVariable("c", false), new TemplateVariable("list", false)],
            variables);
    }

    [Theory]
    [InlineData("Hi {{first_name}}!")]
    [InlineData("Hi {{ first_name | default: 'there' }}!")]
    [InlineData("{{ a | upcase }}{{ b | downcase | default: 'none' }}")]
    [InlineData("  {{- a -}}  \n {{ b }}\n")]
    [InlineData("{{ address }}")]
    [InlineData("{% if a %}x{% endif %}")]
    [InlineData("{% unless a == 'b' %}x{% else %}{{ a }}{% endunless %}")]
    public void Simple_templates_are_compiled(string template)
    {
        Assert.True(TemplateRenderer.IsCompiled(_renderer.Parse(template)));
    }

    [Theory]
    [InlineData("{% if a > 'b' %}x{% endif %}")]
    [InlineData("{% if a and b %}x{% endif %}")]
    [InlineData("{% if a == b %}x{% endif %}")]
    [InlineData("{% if a %}{% assign c = 'd' %}{% endif %}")]
    [InlineData("{% if a == empty %}x{% endif %}")]
    [InlineData("{{ a.b }}")]
    [InlineData("{{ a | truncate: 5 }}")]
    [InlineData("{{ a | default: 5 }}")]
    [InlineData("{{ empty }}")]
    [InlineData("{{ 'lit' }}")]
    public void Other_templates_render_through_fluid(string template)
    {
        Assert.False(TemplateRenderer.IsCompiled(_renderer.Parse(template)));
    }

    public static TheoryData<string> CompiledTemplates =>
    [
        "Hi {{first_name}}!",
        "Hi {{ first_name | default: 'there' }}, code {{code}}",
        "{{ a | upcase }}|{{ b | downcase }}|{{ c | default: '' }}|{{ d | upcase | default: 'D' }}|{{ e | default: 'E' | upcase }}",
        "  {{- a -}}  \n {{ b }}\n {{- c }} x {{ d -}}\n\ny",
        "{{ address }} {{ a }}",
        "no placeholders at all: € [ ] {}",
        "",
        "{{ a }}{{ a }}{{ a | default: \"dq\" }}",
        "{% if a %}A={{ a }}{% else %}no a{% endif %}|{% unless b %}no b{% endunless %}",
        "{% if a == 'Ana' %}1{% elsif a == '' %}2{% elsif b != 'ZOË' %}3{% else %}4{% endif %}",
        "{% if 'Ana' == c %}c is Ana{% endif %}{% unless d != ' ' %}d is space{% else %}d is not space{% endunless %}",
        "Hi\n  {%- if first_name -%}\n {{ first_name | upcase }} {%- endif %}\n{% if e %}{% if a %}both{% else %}e only{% endif %}{% endif %}",
        "{% if a == '5' %}five{% endif %}{% if b != 'true' %}not true{% endif %}{% if c == '5.0' %}5.0{% endif %}",
        "{% if address %}{{ address }}{% endif %}{% if address == '+15550001' %}!{% endif %}",
    ];

    [Theory]
    [MemberData(nameof(CompiledTemplates))]
    public void The_compiled_path_gives_exactly_what_fluid_gives(string template)
    {
        string?[] values = [null, "", " ", "5", "5.0", "true", "Ana", "ana", "ZOË", "straße", "istanbul İ ı", "<b>&amp;", "😀 emoji", "ǅ title", "line\nbreak", "{{ not liquid }}"];
        var parsed = _renderer.Parse(template);
        Assert.True(TemplateRenderer.IsCompiled(parsed));
        var random = new Random(42);
        for (var i = 0; i < 400; i++)
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var name in new[] { "a", "b", "c", "d", "e", "first_name", "code", "address" })
            {
                if (values[random.Next(values.Length)] is { } value)
                {
                    variables[name] = value;
                }
            }
            var address = random.Next(3) == 0 ? null : "+1555000" + (i % 3);

            var fast = _renderer.Render(parsed, variables, address);
            var fluid = _renderer.RenderWithFluid(parsed, variables, address);

            Assert.Equal(fluid, fast);
        }
    }

    [Fact]
    public void Rendering_from_many_threads_at_once_gives_each_its_own_text()
    {
        var parsed = _renderer.Parse("Hi {{ name }}, #{{ n }}");
        var results = new string[2000];

        Parallel.For(0, results.Length, i => results[i] = _renderer.Render(parsed, Vars(("name", "R" + i), ("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture)))));

        Assert.All(Enumerable.Range(0, results.Length), i => Assert.Equal($"Hi R{i}, #{i}", results[i]));
    }
}

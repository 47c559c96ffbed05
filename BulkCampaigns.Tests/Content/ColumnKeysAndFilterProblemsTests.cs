using BulkCampaigns.Content;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Content;

/// <summary>Columns named like "First Name" are read by their key; unknown filters and tags are problems with a position.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class ColumnKeysAndFilterProblemsTests
{
    private readonly TemplateRenderer _renderer = new();

    // The headers of a real contact file.
    private static Dictionary<string, string> Contact() => new(StringComparer.Ordinal)
    {
        ["First Name"] = "Ana",
        ["last_name"] = "Silva",
        ["City"] = "Lisbon",
        ["Plan"] = "Gold",
        ["signup_date"] = "2026-01-05",
    };

    [Theory]
    [InlineData("First Name", "first_name")]
    [InlineData("last_name", "last_name")]
    [InlineData("City", "city")]
    [InlineData("Mobile Number", "mobile_number")]
    [InlineData("  E-mail  address ", "e_mail_address")]
    [InlineData("Prénom", "prenom")]
    [InlineData("2FA code", "_2fa_code")]
    [InlineData("signup__date", "signup_date")]
    [InlineData("名前", null)]
    [InlineData("!!!", null)]
    public void A_column_name_has_a_key_in_lower_case_with_underscores(string column, string? key)
    {
        Assert.Equal(key, VariableKeys.Key(column));
    }

    [Fact]
    public void A_column_with_spaces_is_read_by_its_key_on_the_compiled_path_and_through_fluid()
    {
        var parsed = _renderer.Parse("Hi {{ first_name }} {{ last_name }} from {{ city | upcase }}, {{ plan | default: 'basic' }}");
        Assert.True(TemplateRenderer.IsCompiled(parsed));

        Assert.Equal("Hi Ana Silva from LISBON, Gold", _renderer.Render(parsed, Contact()));
        Assert.Equal("Hi Ana Silva from LISBON, Gold", _renderer.RenderWithFluid(parsed, Contact()));
    }

    [Fact]
    public void A_template_that_only_fluid_renders_reads_the_key_too()
    {
        var parsed = _renderer.Parse("{% for i in (1..2) %}{{ first_name | append: '!' }}{% endfor %}");
        Assert.False(TemplateRenderer.IsCompiled(parsed));

        Assert.Equal("Ana!Ana!", _renderer.Render(parsed, Contact()));
    }

    [Fact]
    public void A_column_spelled_like_the_key_wins_and_otherwise_the_first_column_does()
    {
        var both = new Dictionary<string, string>(StringComparer.Ordinal) { ["First Name"] = "spaced", ["first_name"] = "exact" };
        var twoSpellings = new Dictionary<string, string>(StringComparer.Ordinal) { ["First Name"] = "first", ["FIRST  NAME"] = "second" };
        var parsed = _renderer.Parse("{{ first_name }}");

        Assert.Equal("exact", _renderer.Render(parsed, both));
        Assert.Equal("exact", _renderer.RenderWithFluid(parsed, both));
        Assert.Equal("first", _renderer.Render(parsed, twoSpellings));
        Assert.Equal("first", _renderer.RenderWithFluid(parsed, twoSpellings));
    }

    [Fact]
    public void The_compiled_path_and_fluid_agree_on_keys_whatever_the_columns_and_their_order()
    {
        string[] columns = ["First Name", "first_name", "FIRST-NAME", "City", "city", "2FA code", "Prénom", "address", "Address"];
        var parsed = _renderer.Parse("{{ first_name }}|{{ city | default: 'none' }}|{{ _2fa_code }}|{{ prenom | upcase }}|{% if first_name == 'v0' %}zero{% endif %}|{{ address }}");
        Assert.True(TemplateRenderer.IsCompiled(parsed));
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var column in columns.OrderBy(_ => random.Next()))
            {
                if (random.Next(3) > 0)
                {
                    variables[column] = "v" + random.Next(3);
                }
            }
            var address = random.Next(2) == 0 ? null : "+15550001";

            Assert.Equal(_renderer.RenderWithFluid(parsed, variables, address), _renderer.Render(parsed, variables, address));
        }
    }

    [Fact]
    public void Each_column_gets_the_placeholder_that_reaches_it()
    {
        var placeholders = VariableKeys.Placeholders(["Mobile Number", "First Name", "last_name", "City", "Plan", "signup_date", "名前"]);

        Assert.Equal(
            [("Mobile Number", "mobile_number"), ("First Name", "first_name"), ("last_name", "last_name"), ("City", "City"), ("Plan", "Plan"), ("signup_date", "signup_date"), ("名前", null)],
            placeholders);
        // A column that is spelled like another's key keeps the key; the other can't be reached.
        Assert.Equal([("First Name", null), ("first_name", "first_name")], VariableKeys.Placeholders(["First Name", "first_name"]));
        Assert.Equal([("First Name", "first_name"), ("first name", null)], VariableKeys.Placeholders(["First Name", "first name"]));
    }

    [Fact]
    public void An_unknown_filter_is_a_problem_with_its_name_line_and_column()
    {
        var problem = Assert.Single(_renderer.Problems("Hello!\nHi {{ first_name | defualt: 'there' }}!"));

        Assert.Equal("defualt", problem.Filter);
        Assert.Equal(2, problem.Line);
        Assert.Equal(20, problem.Column);
        Assert.Contains("'defualt' at line 2, column 20", problem.Message, StringComparison.Ordinal);
        Assert.Contains("Did you mean 'default'?", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_tag_is_a_problem_with_its_line_and_column()
    {
        var problem = Assert.Single(_renderer.Problems("Hi\n{% iff first_name %}x{% endif %}"));

        Assert.Equal(2, problem.Line);
        Assert.Contains("iff", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Hi {{ first_name | default: 'there' | upcase }}")]
    [InlineData("{{ a | truncate: 5 | append: '…' }} {{ d | date: '%Y' }}")]
    [InlineData("plain text")]
    public void A_template_with_known_filters_has_no_problems(string template)
    {
        Assert.Empty(_renderer.Problems(template));
    }
}

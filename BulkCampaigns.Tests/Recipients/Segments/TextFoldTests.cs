using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BulkCampaigns.Recipients.Segments;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Tests.Recipients.Segments;

/// <summary>
/// The fold of a recipient's variables, which the import runs once per recipient: its one-pass path for what an import
/// writes must answer exactly as parsing the object and folding each text value does, for every shape it is given.
/// </summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class TextFoldTests
{
    /// <summary>The reference: parse, fold every text value with <see cref="TextFold.Fold"/>, keep names and other values.</summary>
    private static JsonObject Reference(string json)
    {
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return new JsonObject();
        }
        if (parsed is not JsonObject obj)
        {
            return new JsonObject();
        }
        var folded = new JsonObject();
        foreach (var (name, value) in obj)
        {
            folded[name] = value is JsonValue v && v.TryGetValue<string>(out var text) ? JsonValue.Create(TextFold.Fold(text)) : value?.DeepClone();
        }
        return folded;
    }

    private static readonly string[] Pieces =
    [
        "Ana", "ÅLESUND", "Nguyễn Văn Ánh", "北京", "O'Brien", "Ørjan", "ſtraße", "ΣΊΣΥΦΟΣ", "K", "İstanbul", "pro", "GOLD",
        "2025-06-01", "42", "", " spaced ", "Zoë", "ǅemal", "𐐀𐐨", "日本語テキスト", "Ærø", "Æ\"quoted\"", "tab\tin", "back\\slash",
    ];

    private static string RandomObject(Random random)
    {
        var builder = new StringBuilder();
        var spaced = random.Next(4) == 0;
        builder.Append('{');
        var count = random.Next(0, 7);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                builder.Append(spaced ? " , " : ",");
            }
            var name = (random.Next(3) == 0 ? "First Name " : "v") + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            builder.Append(JsonSerializer.Serialize(name)).Append(spaced ? " : " : ":");
            builder.Append(random.Next(12) switch
            {
                0 => "12.5",
                1 => "null",
                2 => "[\"A\"]",
                3 => "{\"Nested\": \"B\"}",
                4 => "true",
                5 => JsonSerializer.Serialize(Pieces[random.Next(Pieces.Length)]), // escapes what needs it (\u00C5, \")
                _ => "\"" + Pieces[random.Next(Pieces.Length)].Replace("\\", "", StringComparison.Ordinal).Replace("\"", "", StringComparison.Ordinal)
                    .Replace("\t", "", StringComparison.Ordinal) + "\"",
            });
        }
        builder.Append('}');
        return builder.ToString();
    }

    [Fact]
    public void Folding_many_generated_objects_gives_the_answer_of_parsing_and_folding_each_value()
    {
        var random = new Random(20261202);
        for (var n = 0; n < 20_000; n++)
        {
            var json = RandomObject(random);
            var folded = TextFold.FoldValues(json);
            Assert.True(JsonNode.DeepEquals(Reference(json), JsonNode.Parse(folded)), $"{json} folded to {folded}");
        }
    }

    [Theory]
    [InlineData("""{"First Name":"ÅSE","city":"Oslo"}""", """{"First Name":"åse","city":"oslo"}""")]
    [InlineData("""{ "plan" : "GOLD" , "age" : "42" }""", """{ "plan" : "gold" , "age" : "42" }""")]
    [InlineData("""{"name":"Nguyễn"}""", """{"name":"nguyễn"}""")]
    public void An_import_shaped_object_is_folded_in_place_with_its_names_and_spacing_kept(string json, string expected) =>
        Assert.Equal(expected, TextFold.FoldValues(json));

    [Theory]
    [InlineData("[\"A\"]")]
    [InlineData("\"A\"")]
    [InlineData("{\"a\":\"B\"")]
    [InlineData("{\"a\":\"B\"} x")]
    [InlineData("{\"a\" \"B\"}")]
    [InlineData("not json at all, A")]
    public void What_is_not_one_object_folds_to_an_empty_object(string json) =>
        Assert.Equal("{}", TextFold.FoldValues(json));

    [Fact]
    public void An_object_whose_values_have_nothing_to_fold_is_returned_as_it_is_even_with_capitals_in_its_names()
    {
        var json = """{"First Name":"ana","City":"oslo"}""";
        Assert.Same(json, TextFold.FoldValues(json));
    }

    [Fact]
    public void The_JSONB_SQLite_is_handed_for_each_object_reads_back_as_the_folded_object_of_the_parsing_path()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        SqliteJsonbFold.Register(connection, "fold_jsonb"); // as the import registers it
        connection.CreateFunction<string, string>("fold_text", TextFold.FoldValues, isDeterministic: true);
        using var command = connection.CreateCommand();
        // json() writes either side out as canonical text; json_valid(…, 8) checks the blob is well-formed JSONB.
        command.CommandText = "SELECT json(jsonb(fold_jsonb($v))), json(jsonb(fold_text($v))), typeof(fold_jsonb($v)), json_valid(jsonb(fold_jsonb($v)), 8)";
        var value = command.Parameters.Add("$v", SqliteType.Text);
        var random = new Random(2026120218);
        var blobs = 0;
        for (var n = 0; n < 20_000; n++)
        {
            var json = RandomObject(random);
            if (random.Next(50) == 0)
            {
                json = json.Replace("\"v", "\"" + new string('x', random.Next(250, 70_000)), StringComparison.Ordinal); // names past the one- and two-byte sizes
            }
            value.Value = json;
            using var reader = command.ExecuteReader();
            reader.Read();
            Assert.True(reader.GetString(0) == reader.GetString(1), $"{json}: JSONB {reader.GetString(0)}, parsed {reader.GetString(1)}");
            Assert.Equal(1, reader.GetInt64(3));
            blobs += reader.GetString(2) == "blob" ? 1 : 0;
        }
        Assert.True(blobs > 5_000, $"only {blobs} objects took the JSONB path"); // the import's shape is the common case
    }

    [Fact]
    public void Every_character_folds_from_UTF8_exactly_as_the_text_fold_folds_it()
    {
        var destination = new byte[16];
        var mismatches = new List<string>();
        for (var code = 0; code <= 0x10FFFF; code++)
        {
            if (code is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }
            var text = char.ConvertFromUtf32(code);
            var length = TextFold.FoldUtf8(Encoding.UTF8.GetBytes(text), destination);
            var expected = TextFold.Fold(text);
            if (length < 0 || Encoding.UTF8.GetString(destination, 0, length) != expected)
            {
                mismatches.Add($"U+{code:X4}");
            }
        }
        Assert.Empty(mismatches);
    }

    [Theory]
    [InlineData("ΣΊΣΥΦΟΣ ΟΔΟΣ")] // a final sigma
    [InlineData("İstanbul ıi IJ ǅemal ǈ ǋ")] // dotted and dotless i, title-case digraphs
    [InlineData("STRAẞE ſtraße ﬁ")] // capital sharp s, long s, a ligature
    [InlineData("K Å Ω")] // Kelvin, Ångström and Ohm signs: 3 bytes that fold to fewer
    [InlineData("𐐀𐐨 𞤀 Nguyễn Văn Ánh 北京 ÆØÅ")]
    [InlineData("Á ë")] // combining marks
    public void Text_folds_from_UTF8_exactly_as_the_text_fold_folds_it(string text)
    {
        var source = Encoding.UTF8.GetBytes(text);
        var destination = new byte[source.Length * 2];
        var length = TextFold.FoldUtf8(source, destination);
        Assert.Equal(TextFold.Fold(text), Encoding.UTF8.GetString(destination, 0, length));
    }

    [Fact]
    public void Bytes_that_are_not_UTF8_are_left_to_the_text_fold()
    {
        Assert.Equal(-1, TextFold.FoldUtf8([0x41, 0xC3], new byte[8])); // a sequence cut short
        Assert.Equal(-1, TextFold.FoldUtf8([0xFF, 0x41], new byte[8]));
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Recipients;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Recipients;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class CsvParsingTests
{
    private sealed record Parsed(string[] Header, List<(CsvRecord Record, ValidRecipient Recipient)> Accepted, List<RowRejection> Rejected);

    /// <summary>Reads a file the way the import job does: layout from its start, then every record through the validator.</summary>
    private static Parsed Parse(byte[] bytes, string region = "US", string? addressColumn = null, string? channelColumn = null)
    {
        var layout = CsvLayout.Inspect(bytes.AsSpan(0, Math.Min(bytes.Length, CsvLayout.SampleBytes)), bytes.Length <= CsvLayout.SampleBytes);
        Assert.True(layout.IsValid, layout.Error);
        using var reader = new RecipientCsvReader(new MemoryStream(bytes), layout.Delimiter);
        var (address, channel, error) = RecipientRowValidator.ResolveColumns(reader.Header, addressColumn, channelColumn);
        Assert.Null(error);
        var validator = new RecipientRowValidator(reader.Header, address, channel, region);
        var accepted = new List<(CsvRecord, ValidRecipient)>();
        var rejected = new List<RowRejection>();
        while (reader.TryRead(out var record))
        {
            if (validator.Validate(record, out var recipient) is { } rejection)
            {
                rejected.Add(rejection);
            }
            else
            {
                accepted.Add((record, recipient));
            }
        }
        return new Parsed(reader.Header, accepted, rejected);
    }

    private static Parsed Parse(string text, string region = "US", string? addressColumn = null, string? channelColumn = null) =>
        Parse(Encoding.UTF8.GetBytes(text), region, addressColumn, channelColumn);

    private static Dictionary<string, string> Variables(ValidRecipient r) => JsonSerializer.Deserialize<Dictionary<string, string>>(r.VariablesJson)!;

    [Fact]
    public void National_and_international_numbers_are_stored_in_E164_and_other_columns_become_variables()
    {
        var parsed = Parse("phone,first_name,city\n(201) 555-0123,Ann,Newark\n+44 7911 123456,Bob,London\n");

        Assert.Equal(["+12015550123", "+447911123456"], parsed.Accepted.Select(a => a.Recipient.Address));
        Assert.All(parsed.Accepted, a => Assert.Equal("PHONE", a.Recipient.Channel));
        Assert.Equal(new Dictionary<string, string> { ["first_name"] = "Ann", ["city"] = "Newark" }, Variables(parsed.Accepted[0].Recipient));
        Assert.Empty(parsed.Rejected);
    }

    [Fact]
    public void An_invalid_number_is_rejected_with_its_row_line_column_value_and_a_plain_reason()
    {
        var parsed = Parse("phone,name\n2015550123,Ann\n12345,Bob\n");

        var rejection = Assert.Single(parsed.Rejected);
        Assert.Equal(2, rejection.Row);
        Assert.Equal(3, rejection.Line);
        Assert.Equal("phone", rejection.Column);
        Assert.Equal("12345", rejection.Value);
        Assert.Equal("not a valid phone number for region US", rejection.Reason);
        Assert.Equal("Row 2 (line 3): '12345' is not a valid phone number for region US", rejection.Describe());
    }

    [Fact]
    public void The_default_region_reads_national_numbers_and_plus_numbers_of_any_region_are_kept()
    {
        var parsed = Parse("mobile\n07911 123456\n+12015550123\n", region: "GB");

        Assert.Equal(["+447911123456", "+12015550123"], parsed.Accepted.Select(a => a.Recipient.Address));
    }

    [Fact]
    public void An_empty_address_is_rejected()
    {
        var parsed = Parse("phone,name\n,Ann\n   ,Bob\n");

        Assert.Equal(2, parsed.Rejected.Count);
        Assert.All(parsed.Rejected, r => Assert.Equal("the address is empty", r.Reason));
        Assert.Equal("Row 1 (line 2): the address is empty", new RowRejection(1, 2, "phone", "", "the address is empty").Describe());
    }

    [Fact]
    public void A_row_with_the_wrong_number_of_values_is_rejected_and_the_good_rows_go_in()
    {
        var parsed = Parse("phone,name,city\n2015550123,Ann\n2015550124,Bob,Paris,extra\n2015550125,Cy,Rome\n");

        Assert.Equal(["+12015550125"], parsed.Accepted.Select(a => a.Recipient.Address));
        Assert.Equal(["has 2 values but the header has 3 columns", "has 4 values but the header has 3 columns"], parsed.Rejected.Select(r => r.Reason));
        Assert.Equal([2L, 3L], parsed.Rejected.Select(r => r.Line));
    }

    [Fact]
    public void An_unknown_channel_is_rejected_and_known_ones_are_normalized()
    {
        var parsed = Parse("phone,channel\n2015550123,whatsapp\n2015550124,SMS\n2015550125,fax\n2015550126,\n", channelColumn: "channel");

        Assert.Equal(["WHATSAPP", "PHONE", "PHONE"], parsed.Accepted.Select(a => a.Recipient.Channel));
        var rejection = Assert.Single(parsed.Rejected);
        Assert.Equal("fax", rejection.Value);
        Assert.Contains("not a channel", rejection.Reason, StringComparison.Ordinal);
        Assert.Empty(Variables(parsed.Accepted[0].Recipient));
    }

    [Fact]
    public void A_utf8_byte_order_mark_does_not_become_part_of_the_first_header()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("phone,name\r\n2015550123,Ann\r\n")).ToArray();

        var parsed = Parse(bytes);

        Assert.Equal(["phone", "name"], parsed.Header);
        Assert.Single(parsed.Accepted);
    }

    [Theory]
    [InlineData(",")]
    [InlineData(";")]
    [InlineData("\t")]
    public void Comma_semicolon_and_tab_separated_files_are_read(string delimiter)
    {
        var parsed = Parse($"name{delimiter}phone{delimiter}city\nAnn{delimiter}2015550123{delimiter}Paris\n");

        var row = Assert.Single(parsed.Accepted);
        Assert.Equal("+12015550123", row.Recipient.Address);
        Assert.Equal("Ann", Variables(row.Recipient)["name"]);
    }

    [Fact]
    public void Quoted_fields_keep_commas_quotes_and_line_breaks_and_lines_are_counted_from_where_each_record_starts()
    {
        var text = "phone,note\n" +
                   "2015550123,\"Hello, \"\"friend\"\"\"\n" +
                   "2015550124,\"two\nlines\"\n" +
                   "bad,\"three\r\nline\nnote\"\n" +
                   "oops,x\n";

        var parsed = Parse(text);

        Assert.Equal("Hello, \"friend\"", Variables(parsed.Accepted[0].Recipient)["note"]);
        Assert.Equal("two\nlines", Variables(parsed.Accepted[1].Recipient)["note"]);
        Assert.Equal([2L, 3L], parsed.Accepted.Select(a => a.Record.Line));
        Assert.Equal([(3L, 5L), (4L, 8L)], parsed.Rejected.Select(r => (r.Row, r.Line)));
    }

    [Fact]
    public void Any_unicode_in_names_survives_byte_for_byte()
    {
        const string name = "Zoë Ångström-Łukasz 東京 Ωμέγα 😀 مرحبا";

        var parsed = Parse($"phone,first_name\n2015550123,{name}\n");

        Assert.Equal(name, Variables(Assert.Single(parsed.Accepted).Recipient)["first_name"]);
        Assert.Contains("Zoë", parsed.Accepted[0].Recipient.VariablesJson, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("phone_number,name", "phone_number")]
    [InlineData("name,Mobile", "Mobile")]
    [InlineData("name,MSISDN,number", "MSISDN")]
    [InlineData("id,To", "To")]
    [InlineData("id,address", "address")]
    public void The_address_column_is_detected_by_its_name(string header, string expected)
    {
        var layout = CsvLayout.InspectText(header + "\n");

        Assert.Equal(expected, layout.DetectedAddressColumn);
    }

    [Fact]
    public void A_file_without_an_address_column_is_refused_with_the_headers_it_has()
    {
        var layout = CsvLayout.InspectText("name,city\nAnn,Paris\n");
        var (_, _, error) = RecipientRowValidator.ResolveColumns(layout.Headers, null, null);

        Assert.Contains("No address column", error, StringComparison.Ordinal);
        Assert.Contains("name, city", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_or_binary_file_is_not_a_csv()
    {
        Assert.Equal("The file is empty.", CsvLayout.Inspect([], true).Error);
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D];
        Assert.Contains("not a CSV", CsvLayout.Inspect(png, true).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_preview_shows_the_header_the_first_rows_and_the_separator()
    {
        var layout = CsvLayout.InspectText("name;phone\nAnn;2015550123\nBob;2015550124\n");

        Assert.Equal(';', layout.Delimiter);
        Assert.Equal(["name", "phone"], layout.Headers);
        Assert.Equal(2, layout.FirstRows.Count);
        Assert.Equal("phone", layout.DetectedAddressColumn);
    }

    [Fact]
    public void Values_with_quotes_backslashes_control_characters_and_emoji_are_stored_as_JSON_that_reads_back_the_same()
    {
        string[] values = ["say \"hi\"", "C:\\path\\", "bell\u0007 and\ttab", "👩‍💻 Zoë", "", "plain"];
        var text = new StringBuilder("phone,a,b,c,d,e,f\n+12015550100");
        foreach (var value in values)
        {
            text.Append(",\"").Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }
        var parsed = Parse(text.Append('\n').ToString());

        var recipient = Assert.Single(parsed.Accepted).Recipient;
        var variables = Variables(recipient);
        Assert.Equal(values, new[] { "a", "b", "c", "d", "e", "f" }.Select(k => variables[k]));
        Assert.Equal(recipient.Json.ToArray(), Encoding.UTF8.GetBytes(recipient.VariablesJson));
        Assert.Contains("👩‍💻 Zoë", recipient.VariablesJson, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_validated_into_one_batch_of_bytes_each_keep_their_own_variables_across_chunks()
    {
        var text = new StringBuilder("phone,name,note\n");
        for (var i = 0; i < 3000; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"+1201555{i:0000},Zoë {i},\"{new string('x', i % 50)} \"\"q\"\"\"\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"+12015559999,Big,{new string('é', 70_000)}\n");
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        var layout = CsvLayout.Inspect(bytes.AsSpan(0, Math.Min(bytes.Length, CsvLayout.SampleBytes)), false);
        using var reader = new RecipientCsvReader(new MemoryStream(bytes), layout.Delimiter);
        var validator = new RecipientRowValidator(reader.Header, 0, -1, "US");
        var batch = new ByteSlices();
        var rows = new List<ValidRecipient>();
        while (reader.TryRead(out var record))
        {
            Assert.Null(validator.Validate(record, out var recipient, batch));
            rows.Add(recipient);
        }

        Assert.Equal(3001, rows.Count);
        for (var i = 0; i < 3000; i++)
        {
            var variables = Variables(rows[i]);
            Assert.Equal($"Zoë {i}", variables["name"]);
            Assert.Equal($"{new string('x', i % 50)} \"q\"", variables["note"]);
        }
        Assert.Equal(new string('é', 70_000), Variables(rows[^1])["note"]);
    }

    [Theory]
    [InlineData("=SUM(A1:A9)", "'=SUM(A1:A9)")]
    [InlineData("+15551230000", "'+15551230000")]
    [InlineData("-1", "'-1")]
    [InlineData("@cmd", "'@cmd")]
    [InlineData("\tx", "'\tx")]
    [InlineData("Ann", "Ann")]
    [InlineData("", "")]
    public void Cells_that_a_spreadsheet_would_run_as_formulas_get_a_leading_apostrophe(string value, string expected) =>
        Assert.Equal(expected, CsvCells.Escape(value));

    [Theory]
    [InlineData("=SUM(A1:A9)")]
    [InlineData("+15551230000")]
    [InlineData("-1")]
    [InlineData("'=already escaped by hand")]
    [InlineData("''@twice")]
    [InlineData("'plain apostrophe")]
    [InlineData("'")]
    [InlineData("\rx")]
    [InlineData("Zoë")]
    [InlineData("")]
    public void Every_cell_the_export_escapes_reads_back_as_it_was(string value) =>
        Assert.Equal(value, CsvCells.Unescape(CsvCells.Escape(value)));

    [Theory]
    [InlineData("+1 201 555 CALL")]
    [InlineData("201-555-CALL")]
    [InlineData("1-800-FLOWERS")]
    [InlineData("+44 7911 ABC456")]
    public void A_number_written_with_letters_is_rejected_not_read_as_keypad_digits(string address)
    {
        var parsed = Parse($"phone,name\n{address},Ann\n");

        Assert.Empty(parsed.Accepted);
        var rejection = Assert.Single(parsed.Rejected);
        Assert.Equal(PhoneAddress.LettersReason, rejection.Reason);
        Assert.Equal(address, rejection.Value);
    }

    [Fact]
    public void A_header_that_does_not_end_within_the_header_limit_is_refused_with_the_limit_named()
    {
        var limits = new CsvLimits(MaxColumns: 500, MaxCellChars: 10_000, MaxHeaderBytes: 4096, MaxRecordBytes: 1 << 20);
        var header = "phone," + string.Join(",", Enumerable.Range(1, 400).Select(i => "column_" + i));
        var bytes = Encoding.UTF8.GetBytes(header + "\n2015550101" + new string(',', 400) + "\n");

        var cut = CsvLayout.Inspect(bytes.AsSpan(0, 4096), wholeFile: false, 0, limits);
        var whole = CsvLayout.Inspect(bytes, wholeFile: true, 0, limits);

        Assert.Contains("The header (the first line) is longer than 4 KB, the limit", cut.Error, StringComparison.Ordinal);
        Assert.Contains("more than the limit of 4 KB", whole.Error, StringComparison.Ordinal);
    }
}

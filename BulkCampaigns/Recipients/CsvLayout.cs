using System.Globalization;
using System.Text;
using CsvHelper;

namespace BulkCampaigns.Recipients;

/// <summary>What a file's first bytes tell: its delimiter, header and first rows, or why it is not a CSV we can read.</summary>
public sealed record CsvLayout(char Delimiter, IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> FirstRows, string? DetectedAddressColumn, string? Error)
{
    /// <summary>How much of a file is looked at to tell its layout.</summary>
    public const int SampleBytes = 64 * 1024;

    public bool IsValid => Error is null;

    public string DelimiterName => Delimiter switch { ';' => "semicolon", '\t' => "tab", _ => "comma" };

    private static readonly string[] AddressNames = ["phone", "mobile", "msisdn", "number", "to", "address", "phonenumber", "mobilenumber", "mobilephone", "cell", "cellphone", "tel", "telephone"];

    /// <summary>The first header named like phone, mobile, msisdn, number, to or address (docs/api.md), case-insensitive.</summary>
    public static string? DetectAddressColumn(IEnumerable<string> headers)
    {
        foreach (var header in headers)
        {
            var letters = new string(header.Where(char.IsLetter).Select(char.ToLowerInvariant).ToArray());
            if (AddressNames.Contains(letters) || letters.Contains("phone", StringComparison.Ordinal) ||
                letters.Contains("mobile", StringComparison.Ordinal) || letters.Contains("msisdn", StringComparison.Ordinal))
            {
                return header;
            }
        }
        return null;
    }

    /// <summary>Reads the layout from the start of a file (up to <see cref="SampleBytes"/>).</summary>
    public static CsvLayout Inspect(ReadOnlySpan<byte> sample, bool wholeFile, int previewRows = 5)
    {
        if (sample.IsEmpty)
        {
            return Fail("The file is empty.");
        }
        if (sample.IndexOf((byte)0) >= 0)
        {
            return Fail("This file is not a CSV text file (it holds binary data). Save the sheet as 'CSV UTF-8' and upload that.");
        }
        var bytes = sample;
        if (bytes.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }
        if (!wholeFile)
        {
            // The sample may end inside a multi-byte character; only whole lines are looked at.
            var lastNewline = bytes.LastIndexOf((byte)'\n');
            bytes = lastNewline >= 0 ? bytes[..(lastNewline + 1)] : bytes;
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Fail("This file is not UTF-8 text. In your spreadsheet choose 'Save as CSV UTF-8' and upload that file.");
        }
        return InspectText(text, previewRows);
    }

    /// <summary>Reads the layout from the start of a file already decoded (the page's preview sends the first kilobytes).</summary>
    public static CsvLayout InspectText(string text, int previewRows = 5)
    {
        text = text.TrimStart('\uFEFF');
        if (string.IsNullOrWhiteSpace(text))
        {
            return Fail("The file is empty.");
        }
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            return Fail("This file is not a CSV text file (it holds binary data). Save the sheet as 'CSV UTF-8' and upload that.");
        }
        var delimiter = DetectDelimiter(text);
        using var reader = CsvReader.FromText(text, Options(delimiter));
        var headers = reader.Headers.Select(h => (h ?? "").Trim()).ToArray();
        if (headers.Length == 0 || headers.All(h => h.Length == 0))
        {
            return Fail("The first line should be a header naming the columns (e.g. phone,first_name), but it is empty.");
        }
        for (var i = 0; i < headers.Length; i++)
        {
            if (headers[i].Length == 0)
            {
                headers[i] = "column" + (i + 1).ToString(CultureInfo.InvariantCulture);
            }
        }
        var duplicate = headers.GroupBy(h => h, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            return Fail($"The header names the column '{duplicate.Key}' twice; give each column its own name.");
        }
        var rows = new List<IReadOnlyList<string>>();
        while (rows.Count < previewRows && reader.Read())
        {
            var fields = new string[reader.FieldCount];
            for (var i = 0; i < fields.Length; i++)
            {
                fields[i] = reader.GetString(i) ?? "";
            }
            rows.Add(fields);
        }
        return new CsvLayout(delimiter, headers, rows, DetectAddressColumn(headers), null);
    }

    /// <summary>The delimiter the header line uses most: comma, semicolon or tab (outside quotes).</summary>
    public static char DetectDelimiter(string text)
    {
        int commas = 0, semicolons = 0, tabs = 0;
        var quoted = false;
        foreach (var c in text)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted)
            {
                if (c is '\n' or '\r')
                {
                    break;
                }
                switch (c)
                {
                    case ',': commas++; break;
                    case ';': semicolons++; break;
                    case '\t': tabs++; break;
                }
            }
        }
        if (tabs > commas && tabs >= semicolons)
        {
            return '\t';
        }
        return semicolons > commas ? ';' : ',';
    }

    /// <summary>
    /// How every CSV of the app is read: RFC 4180 quoting (separators and line breaks inside quotes), the given
    /// separator, a header, empty lines skipped, ragged records returned as they are (the importer rejects
    /// them with their reason), and line numbers counted for error reports.
    /// </summary>
    public static CsvReaderOptions Options(char delimiter) => new()
    {
        Separator = delimiter,
        HasHeader = true,
        Mode = CsvMode.Rfc4180,
        SkipEmptyLines = true,
        TrimWhitespace = false,
        TrackLineNumbers = true,
        FieldCountMismatch = CsvFieldCountHandling.Allow,
        MalformedData = CsvMalformedDataHandling.Recover,
        MissingField = CsvMissingFieldHandling.ReturnEmpty,
        IncludeValuesInExceptions = false,
    };

    private static CsvLayout Fail(string error) => new(',', [], [], null, error);
}

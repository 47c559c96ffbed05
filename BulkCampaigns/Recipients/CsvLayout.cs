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

    /// <summary>Characters of a cell the preview shows (the page shows a few rows, not whole cells).</summary>
    public const int PreviewChars = 200;

    /// <summary>How much of a file's start to read so the header is whole (up to its limit) and a few rows follow.</summary>
    public static int HeadBytes(CsvLimits limits) => limits.MaxHeaderBytes + SampleBytes;

    /// <summary>
    /// The end of the header line (the index of its line feed, or of the end of the text for a one-line file), or -1 when
    /// the sample ends inside it. Quotes are followed, so a quoted line break does not end it.
    /// </summary>
    public static int HeaderEnd(ReadOnlySpan<byte> bytes, bool wholeFile, out bool openQuote)
    {
        var quoted = false;
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (b == (byte)'"')
            {
                quoted = !quoted;
            }
            else if (b == (byte)'\n' && !quoted)
            {
                openQuote = false;
                return i;
            }
        }
        openQuote = quoted;
        return wholeFile && !quoted ? bytes.Length : -1;
    }

    /// <summary>
    /// Reads the layout from the start of a file (<see cref="HeadBytes"/> of it, or the whole file when shorter): the
    /// header is read whole and checked against <paramref name="limits"/> before anything else.
    /// </summary>
    public static CsvLayout Inspect(ReadOnlySpan<byte> sample, bool wholeFile, int previewRows = 5, CsvLimits? limits = null)
    {
        limits ??= CsvLimits.Default;
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
        var headerEnd = HeaderEnd(bytes, wholeFile, out var openQuote);
        if (headerEnd < 0)
        {
            if (openQuote && (wholeFile || bytes.Length <= limits.MaxHeaderBytes))
            {
                return Fail(wholeFile
                    ? UnterminatedQuote(1)
                    : $"The header (the first line) is longer than {FormatSize(limits.MaxHeaderBytes)}, the limit, or opens a quote it never closes. Check the first line of the file.");
            }
            return Fail($"The header (the first line) is longer than {FormatSize(limits.MaxHeaderBytes)}, the limit. A file this wide is not a recipient list: keep the columns you need.");
        }
        if (headerEnd > limits.MaxHeaderBytes)
        {
            return Fail($"The header (the first line) is {FormatSize(headerEnd)}, more than the limit of {FormatSize(limits.MaxHeaderBytes)}. Keep the columns you need.");
        }
        if (!wholeFile)
        {
            // The sample may end inside a multi-byte character; only whole lines are looked at.
            var lastNewline = bytes.LastIndexOf((byte)'\n');
            bytes = bytes[..(lastNewline + 1)];
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
        return InspectText(text, previewRows, limits);
    }

    /// <summary>Reads the layout from whole lines of a file's start, already decoded.</summary>
    public static CsvLayout InspectText(string text, int previewRows = 5, CsvLimits? limits = null)
    {
        limits ??= CsvLimits.Default;
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
        var raw = reader.Headers;
        if (raw.Count > limits.MaxColumns)
        {
            return Fail($"The file has {raw.Count:N0} columns, more than the limit of {limits.MaxColumns:N0}. Keep the columns you need (the number and the variables of your messages) and upload it again.");
        }
        for (var i = 0; i < raw.Count; i++)
        {
            if ((raw[i]?.Length ?? 0) > limits.MaxCellChars)
            {
                return Fail($"The header's column {i + 1} has a name of {raw[i]!.Length:N0} characters, more than the limit of {limits.MaxCellChars:N0}.");
            }
        }
        var headers = HeaderNames(raw);
        if (headers.Length == 0 || headers.All(h => h.StartsWith(EmptyHeaderPrefix, StringComparison.Ordinal)) && raw.All(h => string.IsNullOrWhiteSpace(h)))
        {
            return Fail("The first line should be a header naming the columns (e.g. phone,first_name), but it is empty.");
        }
        var duplicate = headers.GroupBy(h => h, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            return Fail($"The header names the column '{duplicate.Key}' twice; give each column its own name.");
        }
        var rows = new List<IReadOnlyList<string>>();
        while (rows.Count < previewRows && reader.Read())
        {
            var fields = new string[Math.Min(reader.FieldCount, headers.Length + 1)];
            for (var i = 0; i < fields.Length; i++)
            {
                var value = reader.GetString(i) ?? "";
                fields[i] = value.Length > PreviewChars ? value[..PreviewChars] + "…" : value;
            }
            rows.Add(fields);
        }
        return new CsvLayout(delimiter, headers, rows, DetectAddressColumn(headers), null);
    }

    private const string EmptyHeaderPrefix = "column";

    /// <summary>
    /// The names a header gives its columns: trimmed, an export's formula escape undone, an empty one named by its
    /// position (column3).
    /// </summary>
    public static string[] HeaderNames(IReadOnlyList<string?> raw)
    {
        var headers = new string[raw.Count];
        for (var i = 0; i < headers.Length; i++)
        {
            var name = CsvCells.Unescape((raw[i] ?? "").Trim());
            headers[i] = name.Length == 0 ? EmptyHeaderPrefix + (i + 1).ToString(CultureInfo.InvariantCulture) : name;
        }
        return headers;
    }

    public static string UnterminatedQuote(long line) =>
        $"The file ends inside a quoted field that starts on line {line:N0}: a quote (\") is opened and never closed. Close it (or remove it) and upload the file again; nothing was added.";

    public static string FormatSize(long bytes) => bytes switch
    {
        >= 1024 * 1024 => $"{bytes / (1024.0 * 1024.0):0.#} MB",
        >= 1024 => $"{bytes / 1024.0:0.#} KB",
        _ => $"{bytes} bytes",
    };

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
    public static CsvReaderOptions Options(char delimiter, int? maxRecordBytes = null, Action<CsvMalformedRecord>? onMalformed = null) => new()
    {
        MaxRecordSize = maxRecordBytes,
        OnMalformedRecord = onMalformed,
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

    /// <summary>A layout that only says why the file can't be read.</summary>
    public static CsvLayout Failed(string error) => new(',', [], [], null, error);

    private static CsvLayout Fail(string error) => Failed(error);
}

/// <summary>The bounds of a file's shape (<c>Limits:*</c>); see <see cref="RecipientOptions"/>.</summary>
public sealed record CsvLimits(int MaxColumns, int MaxCellChars, int MaxHeaderBytes, int MaxRecordBytes)
{
    public static readonly CsvLimits Default = new RecipientOptions { UploadFolder = "" }.CsvLimits;
}

/// <summary>A file whose shape passes a limit or can't be read as CSV: the import fails with this message, adding nothing.</summary>
public sealed class CsvShapeException(string message) : Exception(message);

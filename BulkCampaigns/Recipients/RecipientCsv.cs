using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using BulkCampaigns.Content;
using CsvHelper;

namespace BulkCampaigns.Recipients;

/// <summary>One CSV record: its number among the data rows, the file line it starts on, and its fields.</summary>
public readonly record struct CsvRecord(long Row, long Line, string[] Fields);

/// <summary>
/// A row that went in: its E.164 number as a <see cref="long"/> (which dedupes compactly) and its variables as
/// UTF-8 JSON, the form SQLite stores, made on the validating core.
/// </summary>
public readonly record struct ValidRecipient(long Key, string Channel, ReadOnlyMemory<byte> Json, long Row = 0, long Line = 0)
{
    public string Address => "+" + Key.ToString(CultureInfo.InvariantCulture);

    public string VariablesJson => Encoding.UTF8.GetString(Json.Span);

    /// <summary>
    /// The variables folded for segments when the stage keeps them with the row (SQLite's JSONB), made on the
    /// validating core by <see cref="Dispatch.IImportStaging.Fold"/>; empty when the stage has none to keep.
    /// </summary>
    public ReadOnlyMemory<byte> Folded { get; init; }
}

/// <summary>
/// Hands out slices of large byte arrays for many small values (the rows of one validated batch): one allocation
/// per 64 KiB instead of one per row. A full array is left to the slices already taken from it.
/// </summary>
public sealed class ByteSlices(int chunkSize = 64 * 1024)
{
    private byte[] _chunk = [];
    private int _used;

    /// <summary>Room for a value of at most <paramref name="most"/> bytes; <see cref="Take"/> then keeps what was written.</summary>
    public Span<byte> Reserve(int most)
    {
        if (_chunk.Length - _used < most)
        {
            _chunk = new byte[Math.Max(chunkSize, most)];
            _used = 0;
        }
        return _chunk.AsSpan(_used, most);
    }

    /// <summary>Keeps the first <paramref name="length"/> bytes written into the last <see cref="Reserve"/>.</summary>
    public ReadOnlyMemory<byte> Take(int length)
    {
        var slice = _chunk.AsMemory(_used, length);
        _used += length;
        return slice;
    }
}

/// <summary>A row that did not go in, and why, in words a marketer reads.</summary>
public sealed record RowRejection(long Row, long Line, string? Column, string? Value, string Reason)
{
    public string Describe() => Value is { Length: > 0 }
        ? $"Row {Row} (line {Line}): '{Value}' is {Reason.Replace("the address is ", "", StringComparison.Ordinal)}"
        : $"Row {Row} (line {Line}): {Reason}";
}

/// <summary>
/// Streams the records of a CSV file after its header (CsvHelper's reader: quotes, embedded
/// delimiters and line breaks), with the line each record starts on. A UTF-8 BOM is skipped.
/// </summary>
public sealed class RecipientCsvReader : IDisposable
{
    private readonly CsvReader _reader;
    private long _unterminatedQuoteLine;

    /// <param name="stream">The file.</param>
    /// <param name="delimiter">Its separator (<see cref="CsvLayout.DetectDelimiter"/>).</param>
    /// <param name="maxRecordBytes">The longest record read at all; a longer one stops the file (<see cref="RecipientOptions.MaxRecordBytes"/>).</param>
    public RecipientCsvReader(Stream stream, char delimiter, int? maxRecordBytes = null)
    {
        FileLength = stream.CanSeek ? stream.Length : 0;
        MaxRecordBytes = maxRecordBytes;
        // Told of malformed quoting so a quote left open to the end of the file is a refused file, not one last
        // record swallowing the rest of it. Recovered stray quotes (5" tall) read as they did.
        _reader = CsvReader.Create(stream, CsvLayout.Options(delimiter, maxRecordBytes, OnMalformed), leaveOpen: true);
        Header = CsvLayout.HeaderNames(_reader.Headers);
    }

    private void OnMalformed(CsvMalformedRecord record)
    {
        if (record.Reason == CsvMalformedReason.UnterminatedQuote && _unterminatedQuoteLine == 0)
        {
            _unterminatedQuoteLine = Math.Max(1, record.LineNumber);
        }
    }

    public int? MaxRecordBytes { get; }

    public string[] Header { get; }

    /// <summary>The file's size in bytes (0 when the stream can't tell).</summary>
    public long FileLength { get; }

    /// <summary>Bytes of the file read so far (for progress and time left).</summary>
    public long BytesRead => _reader.ByteOffset;

    /// <exception cref="CsvShapeException">The file ends inside a quoted field, or a record is longer than <see cref="MaxRecordBytes"/>.</exception>
    public bool TryRead(out CsvRecord record)
    {
        bool read;
        try
        {
            read = _reader.Read();
        }
        catch (CsvFormatException ex) when (MaxRecordBytes is { } most && ex.Message.Contains("MaxRecordSize", StringComparison.OrdinalIgnoreCase))
        {
            throw new CsvShapeException($"A row after row {_reader.RowNumber:N0} is longer than {CsvLayout.FormatSize(most)}, the most a row may take (every column at its limit); nothing was added. A quote opened and never closed does this: check the row after it.");
        }
        if (_unterminatedQuoteLine > 0)
        {
            throw new CsvShapeException(CsvLayout.UnterminatedQuote(_unterminatedQuoteLine));
        }
        if (!read)
        {
            record = default;
            return false;
        }
        var fields = new string[_reader.FieldCount];
        for (var i = 0; i < fields.Length; i++)
        {
            fields[i] = _reader.GetString(i) ?? "";
        }
        record = new CsvRecord(_reader.RowNumber, _reader.LineNumber, fields);
        return true;
    }

    public void Dispose() => _reader.Dispose();
}

/// <summary>
/// The rules a data row must pass: as many values as the header, an address that normalizes to
/// E.164 (national numbers in the default region, <c>+</c> numbers in any), a known channel.
/// Every other column becomes a variable, kept as text byte for byte. Thread-safe: imports validate
/// batches on several cores at once.
/// </summary>
public sealed class RecipientRowValidator
{
    public static readonly IReadOnlyList<string> Channels = ChannelNames.RecipientChannels;

    private readonly string[] _headers;
    private readonly int _address;
    private readonly int _channel;
    private readonly string _region;
    private readonly int _maxCellChars;
    private readonly (int Index, JsonEncodedText Name)[] _variables;
    // The JSON of a row in UTF-8 around its values: {"name":" before the first, ","name":" before the others, "} after.
    private readonly byte[][] _prefixes;

    public RecipientRowValidator(string[] headers, int addressIndex, int channelIndex, string region, int maxCellChars = int.MaxValue)
    {
        _maxCellChars = maxCellChars;
        _headers = headers;
        _address = addressIndex;
        _channel = channelIndex;
        _region = region;
        _variables = headers.Select((h, i) => (i, JsonEncodedText.Encode(h, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)))
            .Where(v => v.i != addressIndex && v.i != channelIndex).ToArray();
        _prefixes = _variables.Select((v, i) => Encoding.UTF8.GetBytes((i == 0 ? "{\"" : "\",\"") + v.Name.Value + "\":\"")).ToArray();
    }

    /// <summary>The header names that become variables, in file order.</summary>
    public IReadOnlyList<string> VariableNames => _variables.Select(v => _headers[v.Index]).ToList();

    /// <summary>Finds the address and channel columns in a header; <c>error</c> says what is missing.</summary>
    public static (int Address, int Channel, string? Error) ResolveColumns(IReadOnlyList<string> headers, string? addressColumn, string? channelColumn)
    {
        var address = -1;
        if (!string.IsNullOrWhiteSpace(addressColumn))
        {
            address = IndexOf(headers, addressColumn);
            if (address < 0)
            {
                return (-1, -1, $"The address column '{addressColumn}' is not in the file's header ({string.Join(", ", headers)}).");
            }
        }
        else if (CsvLayout.DetectAddressColumn(headers) is { } detected)
        {
            address = IndexOf(headers, detected);
        }
        else
        {
            return (-1, -1, $"No address column found: none of the headers ({string.Join(", ", headers)}) is named like phone, mobile, msisdn, number, to or address. Rename the column or choose it.");
        }
        var channel = -1;
        if (string.IsNullOrWhiteSpace(channelColumn) && headers.Count > 1 && address == 0 &&
            headers[0].Equals("address", StringComparison.OrdinalIgnoreCase) && headers[1].Equals("channel", StringComparison.OrdinalIgnoreCase))
        {
            // The app's own export (address, channel, then the variables) imports back as it was.
            channel = 1;
        }
        else if (!string.IsNullOrWhiteSpace(channelColumn))
        {
            channel = IndexOf(headers, channelColumn);
            if (channel < 0)
            {
                return (-1, -1, $"The channel column '{channelColumn}' is not in the file's header ({string.Join(", ", headers)}).");
            }
            if (channel == address)
            {
                return (-1, -1, "The channel column cannot be the address column.");
            }
        }
        return (address, channel, null);
    }

    private static int IndexOf(IReadOnlyList<string> headers, string name)
    {
        for (var i = 0; i < headers.Count; i++)
        {
            if (string.Equals(headers[i], name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Checks one record; returns null and the row when it goes in, or the rejection.</summary>
    /// <remarks>The variables' JSON goes into <paramref name="bytes"/> when given (an import passes one per batch).</remarks>
    public RowRejection? Validate(in CsvRecord record, out ValidRecipient recipient, ByteSlices? bytes = null)
    {
        recipient = default;
        var fields = record.Fields;
        if (fields.Length != _headers.Length)
        {
            return new RowRejection(record.Row, record.Line, null, null,
                $"has {Plural(fields.Length, "value")} but the header has {Plural(_headers.Length, "column")}");
        }
        for (var i = 0; i < fields.Length; i++)
        {
            if (fields[i].Length > _maxCellChars)
            {
                return new RowRejection(record.Row, record.Line, _headers[i], fields[i][..Math.Min(100, fields[i].Length)] + "…",
                    $"{fields[i].Length:N0} characters long, more than the limit of {_maxCellChars:N0} characters a value may have");
            }
        }
        var addressColumn = _headers[_address];
        var raw = fields[_address];
        // An exported file escapes cells starting with '+' as '+… (formula injection); read them back.
        var text = raw.Trim().TrimStart('\'');
        if (text.Length == 0)
        {
            return new RowRejection(record.Row, record.Line, addressColumn, raw, "the address is empty");
        }
        if (!PhoneAddress.TryNormalize(text, _region, out var e164, out var error))
        {
            return new RowRejection(record.Row, record.Line, addressColumn, raw, error);
        }
        var channel = ChannelNames.Phone;
        if (_channel >= 0)
        {
            var value = fields[_channel].Trim();
            channel = ChannelNames.ForRecipient(value) ?? "";
            if (channel.Length == 0)
            {
                return new RowRejection(record.Row, record.Line, _headers[_channel], value, "not a channel: use PHONE (SMS/MMS), RCS or WHATSAPP");
            }
        }
        var key = long.Parse(e164.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture);
        recipient = new ValidRecipient(key, channel, WriteJson(fields, bytes ?? new ByteSlices(0)), record.Row, record.Line);
        return null;
    }

    /// <summary>
    /// Writes the row's variables as a JSON object in UTF-8, straight from the fields (no string in between).
    /// Values are kept as they are, non-ASCII included, so the stored JSON keeps names readable; the few that need
    /// escaping (quotes, backslashes, control characters, lone surrogates) go through the JSON encoder.
    /// </summary>
    private ReadOnlyMemory<byte> WriteJson(string[] fields, ByteSlices bytes)
    {
        if (_variables.Length == 0)
        {
            "{}"u8.CopyTo(bytes.Reserve(2));
            return bytes.Take(2);
        }
        var most = 2;
        byte[]?[]? escaped = null;
        for (var i = 0; i < _variables.Length; i++)
        {
            // An export escapes formula-like cells ('=2+2); read them back as they were. Allocates only for those.
            var value = fields[_variables[i].Index] = CsvCells.Unescape(fields[_variables[i].Index]);
            most += _prefixes[i].Length;
            if (NeedsJsonEscaping(value))
            {
                escaped ??= new byte[_variables.Length][];
                escaped[i] = JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes.ToArray();
                most += escaped[i]!.Length;
            }
            else
            {
                most += value.Length * 3;
            }
        }
        var target = bytes.Reserve(most);
        var length = 0;
        for (var i = 0; i < _variables.Length; i++)
        {
            _prefixes[i].CopyTo(target[length..]);
            length += _prefixes[i].Length;
            if (escaped?[i] is { } text)
            {
                text.CopyTo(target[length..]);
                length += text.Length;
            }
            else
            {
                length += Encoding.UTF8.GetBytes(fields[_variables[i].Index], target[length..]);
            }
        }
        "\"}"u8.CopyTo(target[length..]);
        return bytes.Take(length + 2);
    }

    private static readonly SearchValues<char> NeedsEscaping = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F");

    private static bool NeedsJsonEscaping(string value) =>
        value.AsSpan().IndexOfAny(NeedsEscaping) >= 0
        || (value.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0 && HasLoneSurrogate(value));

    private static bool HasLoneSurrogate(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return true;
            }
        }
        return false;
    }

    private static string Plural(int n, string word) => n == 1 ? $"1 {word}" : $"{n} {word}s";
}

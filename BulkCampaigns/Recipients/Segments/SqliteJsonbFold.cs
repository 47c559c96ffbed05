using System.Buffers;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace BulkCampaigns.Recipients.Segments;

/// <summary>
/// SQLite's side of building segment rows, run once per recipient inside an import's write: the variables' UTF-8 text
/// in, and for the flat object of text values without escapes that an import writes, the object with its values folded
/// (<see cref="TextFold.Fold"/>) straight out as SQLite's JSONB (https://sqlite.org/jsonb.html), so nothing is decoded
/// to .NET text and back and SQLite has no JSON text to parse again. Any other shape is folded by
/// <see cref="TextFold.FoldValues"/> and returned as JSON text, which <c>jsonb()</c> converts as before.
/// </summary>
public static class SqliteJsonbFold
{
    private const byte Text = 7;
    private const byte Object = 12;

    /// <summary>
    /// Registers the fold as SQL function <paramref name="name"/>(text) on the connection, through SQLite's own API: the
    /// argument is read in place and the result handed over from a reused buffer. Through <c>CreateFunction</c> each call
    /// copied both into new arrays, a fifth of the fold's time in a 1M-row import (perf).
    /// </summary>
    public static void Register(SqliteConnection connection, string name)
    {
        var db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        var rc = raw.sqlite3_create_function(db, name, 1, raw.SQLITE_UTF8 | raw.SQLITE_DETERMINISTIC, null, Call);
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        }
    }

    private static void Call(sqlite3_context context, object userData, sqlite3_value[] args)
    {
        var value = args[0];
        if (raw.sqlite3_value_type(value) == raw.SQLITE_NULL)
        {
            raw.sqlite3_result_null(context);
            return;
        }
        var utf8 = raw.sqlite3_value_blob(value); // a TEXT value's own UTF-8 bytes (the database's encoding)
        if (TryFold(utf8, out var jsonb))
        {
            raw.sqlite3_result_blob(context, jsonb);
        }
        else
        {
            raw.sqlite3_result_text(context, TextFold.FoldValues(Encoding.UTF8.GetString(utf8)));
        }
    }

    /// <summary>
    /// The fold of one recipient's variables (UTF-8 JSON text): true, with the folded object as JSONB in
    /// <paramref name="jsonb"/>, for the flat object of text values without escapes that an import writes. The span is
    /// this thread's buffer, good until the next call on the thread. False for any other shape: its fold is then
    /// <see cref="TextFold.FoldValues"/>, JSON text that <c>jsonb()</c> converts.
    /// </summary>
    public static bool TryFold(ReadOnlySpan<byte> utf8, out ReadOnlySpan<byte> jsonb)
    {
        var output = Output is { } reused && reused.Length >= OutputSize(utf8.Length) ? reused : Output = new byte[Math.Max(4096, OutputSize(utf8.Length))];
        var length = FoldObject(utf8, output);
        jsonb = length < 0 ? default : output.AsSpan(0, length);
        return length >= 0;
    }

    [ThreadStatic]
    private static byte[]? Output;

    /// <summary>Room enough for an object's folded JSONB: values can grow by half in UTF-8, and every element gains a header.</summary>
    private static int OutputSize(int inputLength) => inputLength * 3 + 64;

    /// <summary>The folded object as one JSONB element in <paramref name="output"/> (at least <see cref="OutputSize"/>); its length, or -1 for another shape.</summary>
    private static int FoldObject(ReadOnlySpan<byte> utf8, byte[] output)
    {
        var pairs = ArrayPool<byte>.Shared.Rent(OutputSize(utf8.Length));
        try
        {
            var length = FoldPairs(utf8, pairs);
            if (length < 0)
            {
                return -1;
            }
            var at = WriteHeader(output, 0, Object, length);
            pairs.AsSpan(0, length).CopyTo(output.AsSpan(at));
            return at + length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pairs);
        }
    }

    /// <summary>Writes the object's label and value elements into <paramref name="output"/>; their length, or -1 when the text is not that shape.</summary>
    private static int FoldPairs(ReadOnlySpan<byte> json, byte[] output)
    {
        var members = Members ??= [];
        if (!FlatObject.TryRead<byte>(json, members))
        {
            return -1;
        }
        var written = 0;
        foreach (var m in members)
        {
            written = WriteText(output, written, json.Slice(m.NameStart, m.NameLength));
            written = WriteFolded(output, written, json.Slice(m.ValueStart, m.ValueLength));
        }
        return written;
    }

    [ThreadStatic]
    private static List<FlatObject.Member>? Members;

    /// <summary>A value folded as <see cref="TextFold.Fold"/> folds it, straight from its UTF-8 bytes (<see cref="TextFold.FoldUtf8"/>).</summary>
    private static int WriteFolded(byte[] output, int at, ReadOnlySpan<byte> value)
    {
        if (!value.ContainsAnyExceptInRange((byte)0, (byte)0x7F))
        {
            var start = WriteHeader(output, at, Text, value.Length);
            TextFold.FoldAscii(value, output.AsSpan(start));
            return start + value.Length;
        }
        // Folding keeps a text's length in UTF-16, not always in UTF-8 ("K", the Kelvin sign, is 3 bytes; "k" one).
        var scratch = Scratch is { } reused && reused.Length >= value.Length * 2 ? reused : Scratch = new byte[Math.Max(1024, value.Length * 2)];
        var length = TextFold.FoldUtf8(value, scratch);
        return length >= 0
            ? WriteText(output, at, scratch.AsSpan(0, length))
            : WriteText(output, at, Encoding.UTF8.GetBytes(TextFold.Fold(Encoding.UTF8.GetString(value))));
    }

    [ThreadStatic]
    private static byte[]? Scratch;

    private static int WriteText(byte[] output, int at, ReadOnlySpan<byte> text)
    {
        var start = WriteHeader(output, at, Text, text.Length);
        text.CopyTo(output.AsSpan(start));
        return start + text.Length;
    }

    /// <summary>An element's header: the type in the low four bits, the payload's size in the high four or in the bytes after (big-endian).</summary>
    private static int WriteHeader(byte[] output, int at, byte type, int size)
    {
        switch (size)
        {
            case <= 11:
                output[at] = (byte)((size << 4) | type);
                return at + 1;
            case <= 0xFF:
                output[at] = (byte)(0xC0 | type);
                output[at + 1] = (byte)size;
                return at + 2;
            case <= 0xFFFF:
                output[at] = (byte)(0xD0 | type);
                output[at + 1] = (byte)(size >> 8);
                output[at + 2] = (byte)size;
                return at + 3;
            default:
                output[at] = (byte)(0xE0 | type);
                output[at + 1] = (byte)(size >> 24);
                output[at + 2] = (byte)(size >> 16);
                output[at + 3] = (byte)(size >> 8);
                output[at + 4] = (byte)size;
                return at + 5;
        }
    }
}

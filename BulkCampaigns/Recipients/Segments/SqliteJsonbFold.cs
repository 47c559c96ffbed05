using System.Buffers;
using System.Text;

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

    /// <summary>The function's body: a JSONB blob, or JSON text for a shape this does not write itself.</summary>
    public static object Fold(byte[] utf8)
    {
        var pairs = ArrayPool<byte>.Shared.Rent(utf8.Length * 3 + 64);
        try
        {
            var length = FoldPairs(utf8, pairs);
            if (length < 0)
            {
                return TextFold.FoldValues(Encoding.UTF8.GetString(utf8));
            }
            var result = new byte[HeaderSize(length) + length];
            var at = WriteHeader(result, 0, Object, length);
            pairs.AsSpan(0, length).CopyTo(result.AsSpan(at));
            return result;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pairs);
        }
    }

    /// <summary>Writes the object's label and value elements into <paramref name="output"/>; their length, or -1 when the text is not that shape.</summary>
    private static int FoldPairs(byte[] json, byte[] output)
    {
        var members = Members ??= [];
        if (!FlatObject.TryRead<byte>(json, members))
        {
            return -1;
        }
        var written = 0;
        foreach (var m in members)
        {
            written = WriteText(output, written, json.AsSpan(m.NameStart, m.NameLength));
            written = WriteFolded(output, written, json.AsSpan(m.ValueStart, m.ValueLength));
        }
        return written;
    }

    [ThreadStatic]
    private static List<FlatObject.Member>? Members;

    /// <summary>A value folded as <see cref="TextFold.Fold"/> folds it: A–Z in place for ASCII, the .NET fold for anything else.</summary>
    private static int WriteFolded(byte[] output, int at, ReadOnlySpan<byte> value)
    {
        if (!value.ContainsAnyExceptInRange((byte)0, (byte)0x7F))
        {
            var start = WriteHeader(output, at, Text, value.Length);
            for (var j = 0; j < value.Length; j++)
            {
                var b = value[j];
                output[start + j] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
            }
            return start + value.Length;
        }
        var folded = Encoding.UTF8.GetBytes(TextFold.Fold(Encoding.UTF8.GetString(value)));
        return WriteText(output, at, folded);
    }

    private static int WriteText(byte[] output, int at, ReadOnlySpan<byte> text)
    {
        var start = WriteHeader(output, at, Text, text.Length);
        text.CopyTo(output.AsSpan(start));
        return start + text.Length;
    }

    private static int HeaderSize(int size) => size <= 11 ? 1 : size <= 0xFF ? 2 : size <= 0xFFFF ? 3 : 5;

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

using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BulkCampaigns.Recipients.Segments;

/// <summary>
/// Case-insensitive comparison by Unicode case folding ("ÅLESUND" matches "ålesund"; accents still count):
/// upper-casing then lower-casing, invariant, folds every cased letter both ways (also "K" Kelvin and "ſ").
/// </summary>
public static class TextFold
{
    public static string Fold(string text)
    {
        foreach (var c in text)
        {
            if (c > 0x7F || c is >= 'A' and <= 'Z')
            {
                return text.ToUpperInvariant().ToLowerInvariant();
            }
        }
        return text;
    }

    /// <summary>A–Z to a–z, everything else as it is: the fold of ASCII text, byte for byte into <paramref name="destination"/>.</summary>
    public static void FoldAscii(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        for (var i = 0; i < source.Length; i++)
        {
            var b = source[i];
            destination[i] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
        }
    }

    /// <summary>
    /// <see cref="Fold"/> of UTF-8 text, written as UTF-8 into <paramref name="destination"/> (2 × the source's length is
    /// always enough); the bytes written, or -1 when the source is not valid UTF-8. Each character is folded on its own,
    /// as the invariant casing does (no context: "Σ" at a word's end folds as anywhere else), the Basic Multilingual Plane
    /// from a table made once by <see cref="Fold"/> itself, so a value needs no .NET string.
    /// </summary>
    public static int FoldUtf8(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var table = BmpFold.Value;
        var written = 0;
        while (!source.IsEmpty)
        {
            var b = source[0];
            if (b < 0x80)
            {
                destination[written++] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
                source = source[1..];
                continue;
            }
            if (Rune.DecodeFromUtf8(source, out var rune, out var consumed) != OperationStatus.Done)
            {
                return -1;
            }
            var folded = rune.IsBmp ? new Rune(table[rune.Value]) : Rune.ToLowerInvariant(Rune.ToUpperInvariant(rune));
            written += folded.EncodeToUtf8(destination[written..]);
            source = source[consumed..];
        }
        return written;
    }

    /// <summary>Every character of the Basic Multilingual Plane folded (surrogates map to themselves and are never looked up).</summary>
    private static readonly Lazy<char[]> BmpFold = new(() =>
    {
        var all = new char[0x10000];
        for (var c = 0; c < all.Length; c++)
        {
            all[c] = char.IsSurrogate((char)c) ? ' ' : (char)c;
        }
        var folded = Fold(new string(all)).ToCharArray();
        for (var c = 0xD800; c <= 0xDFFF; c++)
        {
            folded[c] = (char)c;
        }
        return folded;
    });

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Whether UTF-8 variables JSON could fold to anything else: a capital A–Z, a letter beyond ASCII, or an escape that
    /// could hide one. <see cref="FoldValues"/> returns such JSON unchanged.
    /// </summary>
    public static bool NeedsFolding(ReadOnlySpan<byte> utf8) => utf8.ContainsAnyExcept(PlainBytes);

    /// <summary>The characters that fold to themselves and hide nothing: ASCII but A–Z and the JSON escape.</summary>
    private static readonly string Plain =
        new(Enumerable.Range(0, 0x80).Select(c => (char)c).Where(c => c is not (>= 'A' and <= 'Z' or '\\')).ToArray());

    private static readonly SearchValues<char> PlainChars = SearchValues.Create(Plain);

    private static readonly SearchValues<byte> PlainBytes = SearchValues.Create(Encoding.ASCII.GetBytes(Plain));

    /// <summary>A variables object with every value folded and every name kept: what segments compare against.</summary>
    public static string FoldValues(string variablesJson) =>
        !variablesJson.AsSpan().ContainsAnyExcept(PlainChars)
            ? variablesJson // nothing to fold, and no escape that could hide a letter
            : FoldFlatObject(variablesJson) ?? FoldParsed(variablesJson);

    /// <summary>
    /// The shape an import writes (<see cref="FlatObject"/>) folded in one pass, values in place: the same answer as
    /// <see cref="FoldParsed"/> at a fraction of its cost (PostgreSQL's import folds here every row it cannot fold in
    /// the database; SQLite's has its own UTF-8 path, <see cref="SqliteJsonbFold"/>). Null for any other shape.
    /// </summary>
    private static string? FoldFlatObject(string json)
    {
        var members = Members ??= [];
        if (!FlatObject.TryRead(json.AsSpan(), members))
        {
            return null;
        }
        char[]? chars = null;
        foreach (var m in members)
        {
            if (!FoldInPlace(json, m.ValueStart, m.ValueStart + m.ValueLength, ref chars))
            {
                return null;
            }
        }
        return chars is null ? json : new string(chars);
    }

    [ThreadStatic]
    private static List<FlatObject.Member>? Members;

    /// <summary>Folds the value at [start, end) into <paramref name="chars"/> (made on the first change). Folding keeps a text's length.</summary>
    private static bool FoldInPlace(string json, int start, int end, ref char[]? chars)
    {
        var nonAscii = false;
        var upper = false;
        for (var j = start; j < end; j++)
        {
            var c = json[j];
            nonAscii |= c > 0x7F;
            upper |= c is >= 'A' and <= 'Z';
        }
        if (!nonAscii && !upper)
        {
            return true;
        }
        chars ??= json.ToCharArray();
        if (!nonAscii)
        {
            for (var j = start; j < end; j++)
            {
                if (chars[j] is >= 'A' and <= 'Z')
                {
                    chars[j] = (char)(chars[j] | 0x20);
                }
            }
            return true;
        }
        var folded = Fold(json.Substring(start, end - start));
        if (folded.Length != end - start)
        {
            return false;
        }
        folded.CopyTo(chars.AsSpan(start));
        return true;
    }

    /// <summary>The general case: parsed, each text value folded, written again; "{}" for what is not an object.</summary>
    private static string FoldParsed(string variablesJson)
    {
        try
        {
            var buffer = new ArrayBufferWriter<byte>(variablesJson.Length + 16);
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            {
                using var doc = JsonDocument.Parse(variablesJson);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return "{}";
                }
                writer.WriteStartObject();
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String)
                    {
                        writer.WriteString(p.Name, Fold(p.Value.GetString()!));
                    }
                    else
                    {
                        writer.WritePropertyName(p.Name);
                        p.Value.WriteTo(writer);
                    }
                }
                writer.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        catch (JsonException)
        {
            return "{}";
        }
    }
}

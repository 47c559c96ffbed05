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

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A variables object with every value folded and every name kept: what segments compare against.</summary>
    public static string FoldValues(string variablesJson)
    {
        var ascii = true;
        foreach (var c in variablesJson)
        {
            if (c > 0x7F || c is >= 'A' and <= 'Z' || c == '\\')
            {
                ascii = false;
                break;
            }
        }
        if (ascii)
        {
            return variablesJson; // nothing to fold, and no escape that could hide a letter
        }
        return FoldFlatObject(variablesJson) ?? FoldParsed(variablesJson);
    }

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

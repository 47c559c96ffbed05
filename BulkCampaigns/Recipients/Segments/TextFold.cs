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

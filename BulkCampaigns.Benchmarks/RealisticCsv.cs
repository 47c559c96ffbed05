using System.Globalization;
using System.Text;

namespace BulkCampaigns.Benchmarks;

/// <summary>
/// A recipients file as users bring them, from a seeded random (the same file on every run and every machine):
/// six columns (<c>phone, first_name, last_name, city, plan, signup_date</c>); names in many scripts (accents,
/// Vietnamese, Chinese, Nordic, apostrophes such as O'Brien); quoted fields with commas and quotes inside; dates in
/// ISO and US forms; phone numbers written six ways; 1 % invalid numbers in several forms (too short, letters, another
/// country's national number, empty) and 1 % duplicates (an earlier row's number written another way, e.g.
/// <c>+1 (415) 555-0100</c> against <c>14155550100</c>).
/// </summary>
public static class RealisticCsv
{
    public const string Header = "phone,first_name,last_name,city,plan,signup_date";

    /// <summary>The dispatch scenario's template: it uses two of the file's columns.</summary>
    public const string Template = "Hi {{first_name}}, your {{plan}} plan renews soon.";

    public static readonly string[] Plans = ["Free", "Basic", "Pro", "Team", "Enterprise", "Pro Plus"];

    private static readonly string[] FirstNames =
    [
        "Ann", "James", "Zoë", "José", "Łukasz", "Søren", "Ærin", "Chloé", "Jürgen", "Inès", "Noël", "Björk", "Håkon", "María",
        "François", "Ayşe", "Nguyễn Văn", "Thị Hương", "Đức", "Phương", "伟", "娜", "秀英", "敏", "Åsa", "Bjørn", "Sigríður",
        "Þór", "Ólafur", "Siobhán", "D'Arcy", "Renée", "Dmitri", "Анна", "Σοφία", "Małgorzata", "Jean-Luc", "Mary Ann",
    ];

    private static readonly string[] LastNames =
    [
        "Smith", "Müller", "García", "Østergård", "Núñez", "Kowalczyk", "O'Brien", "Ångström", "Dubois", "Çelik", "Sørensen",
        "Brontë", "Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "王", "李", "张", "刘", "Jónsdóttir", "Åberg", "Lindqvist",
        "D'Angelo", "O'Neil-Walsh", "van der Berg", "Иванова", "Παπαδόπουλος", "Dvořák",
    ];

    /// <summary>Cities; those with a comma or a quote are written quoted, as spreadsheets do.</summary>
    private static readonly string[] Cities =
    [
        "New York", "Zürich", "São Paulo", "Kraków", "Reykjavík", "Montréal", "München", "Tromsø", "Paris, France",
        "Hà Nội", "Thành phố Hồ Chí Minh", "北京", "上海", "Göteborg", "Århus", "Portland, OR", "Cork, \"the real capital\"",
        "St. John's", "Zaragoza", "Kyiv, Ukraine",
    ];

    /// <summary>Area codes of the US and Canada that libphonenumber takes as valid.</summary>
    private static readonly int[] AreaCodes = [201, 212, 305, 312, 415, 503, 617, 646, 702, 713, 801, 917, 206, 404, 512, 604, 416, 514, 303, 602];

    public sealed record Counts(int Rows, int Invalid, int Duplicates, long Bytes);

    /// <summary>Writes <paramref name="rows"/> data rows to <paramref name="path"/>.</summary>
    public static Counts Write(string path, int rows, int seed = 20261201)
    {
        var random = new Random(seed);
        int invalid = 0, duplicates = 0;
        using (var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16))
        {
            writer.Write(Header);
            writer.Write('\n');
            var record = new StringBuilder(160);
            // The rows written with a number of their own: a duplicate repeats one of them.
            var own = new List<int>(rows);
            for (var i = 0; i < rows; i++)
            {
                string phone;
                var roll = random.Next(100);
                if (roll == 0)
                {
                    phone = Invalid(random);
                    invalid++;
                }
                else if (roll == 1 && i > 100)
                {
                    // An earlier row's number written another way.
                    var first = own[random.Next(own.Count)];
                    phone = Phone(first, (FormOf(first) + 1 + random.Next(Forms - 1)) % Forms);
                    duplicates++;
                }
                else
                {
                    phone = Phone(i, FormOf(i));
                    own.Add(i);
                }
                record.Clear();
                Field(record, phone).Append(',');
                Field(record, FirstNames[random.Next(FirstNames.Length)]).Append(',');
                Field(record, LastNames[random.Next(LastNames.Length)]).Append(',');
                Field(record, Cities[random.Next(Cities.Length)]).Append(',');
                Field(record, Plans[random.Next(Plans.Length)]).Append(',');
                var date = new DateOnly(2018, 1, 1).AddDays(random.Next(3000));
                record.Append(random.Next(4) == 0
                    ? date.ToString("MM/dd/yyyy", CultureInfo.InvariantCulture)
                    : date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                record.Append('\n');
                writer.Write(record);
            }
        }
        return new Counts(rows, invalid, duplicates, new FileInfo(path).Length);
    }

    private const int Forms = 6;

    private static int FormOf(int i) => (int)((uint)i * 2654435761u >> 16) % Forms;

    /// <summary>Row <paramref name="i"/>'s number (distinct for every i), written in one of six forms.</summary>
    public static string Phone(int i, int form)
    {
        var area = AreaCodes[i % AreaCodes.Length];
        // 7919 is prime to 7,000,000: distinct subscribers for every i / 20 below 7,000,000, exchanges 200-899.
        var subscriber = 2_000_000 + ((long)(i / AreaCodes.Length) * 7919 % 7_000_000);
        var exchange = subscriber / 10_000;
        var line = subscriber % 10_000;
        return form switch
        {
            0 => string.Create(CultureInfo.InvariantCulture, $"+1{area}{exchange:000}{line:0000}"),
            1 => string.Create(CultureInfo.InvariantCulture, $"({area}) {exchange:000}-{line:0000}"),
            2 => string.Create(CultureInfo.InvariantCulture, $"+1 ({area}) {exchange:000}-{line:0000}"),
            3 => string.Create(CultureInfo.InvariantCulture, $"1{area}{exchange:000}{line:0000}"),
            4 => string.Create(CultureInfo.InvariantCulture, $"{area}.{exchange:000}.{line:0000}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{area}-{exchange:000}-{line:0000}"),
        };
    }

    private static string Invalid(Random random) => random.Next(4) switch
    {
        0 => "555-01" + random.Next(10).ToString(CultureInfo.InvariantCulture), // too short
        1 => random.Next(3) switch { 0 => "n/a", 1 => "none", _ => "ask Maria" }, // letters
        2 => "020 7946 " + random.Next(1000, 9999).ToString(CultureInfo.InvariantCulture), // a UK national number, read as US
        _ => "", // empty
    };

    private static StringBuilder Field(StringBuilder record, string value) =>
        value.AsSpan().IndexOfAny(",\"\n") >= 0
            ? record.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"')
            : record.Append(value);
}

using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Hosting;
using BulkCampaigns.Recipients;
using Microsoft.Extensions.Options;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Senders;

public sealed record SenderView(string Id, string Address, string Channel, int Mps, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static SenderView From(Sender s) => new(PublicId.Encode(PublicId.Sender, s.Id), s.Address, s.Channel, s.Mps, s.CreatedAt, s.UpdatedAt);
}

/// <summary>The result of a sender change: the sender, or the problems (field, message) that stopped it.</summary>
public sealed record SenderResult(SenderView? Sender, IReadOnlyList<(string Field, string Message)> Errors, bool Conflict = false);

/// <summary>Registers <c>from</c> addresses; the page and the API both go through here.</summary>
public sealed partial class SenderService(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock, ISenderUsage usage, IOptions<MessagingOptions> messaging)
{
    public const int MaxMps = 1_000_000;

    public async Task<List<SenderView>> ListAsync(CancellationToken ct = default) =>
        (await PageAsync(0, int.MaxValue, ct)).Select(s => s.View).ToList();

    /// <summary>Senders after the row <paramref name="after"/>, in the order they were added (keyset: the API's pages).</summary>
    public async Task<List<(long Key, SenderView View)>> PageAsync(long after, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Set<Sender>().AsNoTracking().Where(s => s.Id > after).OrderBy(s => s.Id).Take(take).ToListAsync(ct);
        return rows.Select(s => (s.Id, SenderView.From(s))).ToList();
    }

    public async Task<SenderView?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Set<Sender>().AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        return row is null ? null : SenderView.From(row);
    }

    /// <summary>Finds a registered sender by its address (normalized like recipients) and channel.</summary>
    public async Task<Sender?> FindAsync(string address, string? channel, CancellationToken ct = default)
    {
        var normalized = NormalizeAddress(address, out _) ?? address.Trim();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Set<Sender>().AsNoTracking().Where(s => s.Address == normalized);
        var wanted = ChannelNames.ForSender(channel);
        if (wanted is not null)
        {
            query = query.Where(s => s.Channel == wanted);
        }
        return await query.OrderBy(s => s.Id).FirstOrDefaultAsync(ct);
    }

    public async Task<SenderResult> CreateAsync(string? address, string? channel, int? mps, CancellationToken ct = default)
    {
        var errors = new List<(string, string)>();
        var normalized = NormalizeAddress(address, out var addressError);
        if (normalized is null)
        {
            errors.Add(("address", addressError));
        }
        var ch = ChannelNames.ForSender(channel ?? ChannelNames.Sms);
        if (ch is null)
        {
            errors.Add(("channel", "channel must be SMS, RCS or WHATSAPP."));
        }
        if (mps is null or < 1 or > MaxMps)
        {
            errors.Add(("mps", $"mps must be a whole number from 1 to {MaxMps}."));
        }
        if (errors.Count > 0)
        {
            return new SenderResult(null, errors);
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Set<Sender>().AnyAsync(s => s.Address == normalized && s.Channel == ch, ct))
        {
            return new SenderResult(null, [("address", $"{normalized} is already a {ch} sender.")], Conflict: true);
        }
        var now = clock.GetUtcNow();
        var sender = new Sender { Address = normalized!, Channel = ch!, Mps = mps!.Value, CreatedAt = now, UpdatedAt = now };
        db.Add(sender);
        await db.SaveChangesAsync(ct);
        return new SenderResult(SenderView.From(sender), []);
    }

    public async Task<SenderResult?> UpdateMpsAsync(long id, int? mps, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var sender = await db.Set<Sender>().FirstOrDefaultAsync(s => s.Id == id, ct);
        if (sender is null)
        {
            return null;
        }
        if (mps is null or < 1 or > MaxMps)
        {
            return new SenderResult(null, [("mps", $"mps must be a whole number from 1 to {MaxMps}.")]);
        }
        sender.Mps = mps.Value;
        sender.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        usage.RateChanged(sender.Id, sender.Mps);
        return new SenderResult(SenderView.From(sender), []);
    }

    /// <summary>Deletes a sender; refused (false) while an unfinished operation uses it.</summary>
    public async Task<bool?> DeleteAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var sender = await db.Set<Sender>().FirstOrDefaultAsync(s => s.Id == id, ct);
        if (sender is null)
        {
            return null;
        }
        if (await usage.IsInUseAsync(id, ct))
        {
            return false;
        }
        db.Remove(sender);
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>A Twilio Messaging Service SID: <c>MG</c> and 32 hexadecimal characters, a pool of numbers behind one sender.</summary>
    public static bool IsMessagingServiceSid(string? address) => address is not null && MessagingServiceSid().IsMatch(address);

    /// <summary>
    /// A sender is an address the tenant owns, which the carrier checks: a Twilio Messaging Service SID (<c>MG…</c>), a phone number (normalized to E.164 when
    /// libphonenumber knows it, kept as written when it is well-formed E.164 it doesn't know, such as +1 555 numbers),
    /// a short code (3–8 digits) or an alphanumeric sender ID (up to 11 letters, digits and spaces).
    /// </summary>
    private string? NormalizeAddress(string? address, out string error)
    {
        if (PhoneAddress.TryNormalize(address, messaging.Value.Region, out var e164, out error))
        {
            return e164;
        }
        var text = address?.Trim() ?? "";
        if (IsMessagingServiceSid(text))
        {
            error = "";
            return text;
        }
        if (WellFormedE164().IsMatch(text) || ShortCode().IsMatch(text) || (AlphanumericId().IsMatch(text) && text.Any(char.IsLetter)))
        {
            error = "";
            return text;
        }
        error = $"address: {error}; a sender is a phone number in E.164 (+15551230000), a short code (12345), an alphanumeric sender ID of up to 11 characters or a Twilio Messaging Service SID (MG and 32 hexadecimal characters).";
        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\+[1-9]\d{6,14}$")]
    private static partial System.Text.RegularExpressions.Regex WellFormedE164();

    [System.Text.RegularExpressions.GeneratedRegex("^MG[0-9a-fA-F]{32}$")]
    private static partial System.Text.RegularExpressions.Regex MessagingServiceSid();

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{3,8}$")]
    private static partial System.Text.RegularExpressions.Regex ShortCode();

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9 ]{1,11}$")]
    private static partial System.Text.RegularExpressions.Regex AlphanumericId();
}

using BulkCampaigns.Content;
using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Campaigns;

/// <summary>What one segment costs on a channel, as an Admin keeps it in Settings; the review's cost estimate uses it.</summary>
public sealed class ChannelPrice
{
    /// <summary>A sender channel: SMS, RCS or WHATSAPP.</summary>
    public required string Channel { get; set; }
    public decimal PricePerSegment { get; set; }

    /// <summary>An ISO 4217 code, e.g. USD.</summary>
    public required string Currency { get; set; }
}

internal sealed class ChannelPriceConfiguration : IEntityTypeConfiguration<ChannelPrice>
{
    public void Configure(EntityTypeBuilder<ChannelPrice> builder)
    {
        builder.ToTable("ChannelPrices");
        builder.HasKey(p => p.Channel);
        builder.Property(p => p.Channel).HasMaxLength(16);
        builder.Property(p => p.Currency).HasMaxLength(3);
    }
}

public sealed class ChannelPrices(IDbContextFactory<AppDbContext> dbFactory)
{
    public static readonly IReadOnlyList<string> Channels = ChannelNames.SenderChannels;

    public async Task<IReadOnlyList<ChannelPrice>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<ChannelPrice>().AsNoTracking().ToListAsync(ct);
    }

    /// <summary>The channel's price, or null when none is set.</summary>
    public async Task<ChannelPrice?> GetAsync(string channel, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = channel.ToUpperInvariant();
        return await db.Set<ChannelPrice>().AsNoTracking().FirstOrDefaultAsync(p => p.Channel == key, ct);
    }

    /// <summary>Sets a channel's price; a null price removes it (no estimate is shown then).</summary>
    public async Task<string?> SetAsync(string channel, decimal? pricePerSegment, string currency, CancellationToken ct = default)
    {
        var key = channel.ToUpperInvariant();
        if (!Channels.Contains(key))
        {
            return $"{channel} is not a channel; use SMS, RCS or WHATSAPP.";
        }
        if (pricePerSegment is < 0)
        {
            return "A price cannot be negative.";
        }
        var code = currency.Trim().ToUpperInvariant();
        if (code.Length != 3 || !code.All(char.IsAsciiLetterUpper))
        {
            return "The currency is a three-letter code, e.g. USD or EUR.";
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Set<ChannelPrice>().FirstOrDefaultAsync(p => p.Channel == key, ct);
        if (pricePerSegment is not { } price)
        {
            if (row is not null)
            {
                db.Remove(row);
            }
        }
        else if (row is null)
        {
            db.Add(new ChannelPrice { Channel = key, PricePerSegment = price, Currency = code });
        }
        else
        {
            row.PricePerSegment = price;
            row.Currency = code;
        }
        await db.SaveChangesAsync(ct);
        return null;
    }
}

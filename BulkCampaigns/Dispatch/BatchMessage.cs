using BulkCampaigns.Content;
using BulkCampaigns.Dispatch.Providers;
using BulkCampaigns.Operations;

namespace BulkCampaigns.Dispatch;

/// <summary>One claimed message on its way through a batch: rendered, sent, then written with its outcome.</summary>
public sealed class BatchMessage(long id, string address, string channel, string variablesJson)
{
    public long Id { get; } = id;
    public string Address { get; } = address;
    public string Channel { get; } = channel;
    public string VariablesJson { get; } = variablesJson;

    /// <summary>Its A/B variant (an index into the operation's variants); null without variants.</summary>
    public int? Variant { get; init; }

    /// <summary>The <see cref="ClaimedBatch"/> it was claimed in; 0 for a message SENDING on its own row (claimed before claimed ranges).</summary>
    public long ClaimId { get; set; }
    public string Body { get; set; } = "";
    public string[] Media { get; set; } = [];
    public int Segments { get; set; } = 1;

    /// <summary>The URLs the body's short links stand for, in order; filled only when asked for (the redirect's look-up).</summary>
    public List<string>? LinkUrls { get; set; }

    /// <summary>A Twilio template and its rendered variables (a JSON object); null for text.</summary>
    public string? ContentSid { get; set; }
    public string? ContentVariables { get; set; }
    public int Attempts { get; set; }

    /// <summary>SENDING while undecided.</summary>
    public MessageStatus Final { get; set; } = MessageStatus.Sending;
    public string? ProviderMessageId { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    public string? Code { get; set; }
    public string? Message { get; set; }
    public bool Retryable { get; set; }
    public bool Unsubscribed { get; set; }
    public bool Ambiguous { get; set; }
    public bool Written { get; set; }

    public void Fail(MessageStatus status, string? code, string? message, bool retryable)
    {
        Final = status;
        Code = code;
        Message = message;
        Retryable = retryable;
    }

    /// <summary>The channel the message goes out on: a WhatsApp sender's messages go on WhatsApp whatever the recipient's row says.</summary>
    public string SendChannel(string fromChannel) => fromChannel == ChannelNames.WhatsApp ? ChannelNames.WhatsApp : Channel;

    public OutgoingMessage ToOutgoing(string from, string fromChannel) => new(Id, from, Address, SendChannel(fromChannel), Body, Media, ContentSid, ContentVariables);
}

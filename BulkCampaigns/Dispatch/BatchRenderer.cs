using System.Text.Json;
using BulkCampaigns.Content;
using BulkCampaigns.Operations;
using Fluid;

namespace BulkCampaigns.Dispatch;

/// <summary>The render step: the operation's content for its sender's channel, parsed once, rendered per message.</summary>
public sealed class BatchRenderer(TemplateRenderer renderer)
{
    public void Render(BatchOperation op, List<BatchMessage> work)
    {
        var content = ChannelContent.Resolve(op.ContentJson, op.FromChannel);
        IFluidTemplate template;
        IFluidTemplate[] media;
        try
        {
            template = renderer.Parse(content.Text);
            media = content.Media.Select(renderer.Parse).ToArray();
        }
        catch (TemplateSyntaxException ex)
        {
            foreach (var p in work)
            {
                p.Fail(MessageStatus.Failed, "render", $"The content can't be rendered: {ex.Message}", retryable: false);
            }
            return;
        }
        var countSegments = op.FromChannel == ChannelNames.Sms;
        foreach (var p in work)
        {
            try
            {
                var variables = JsonSerializer.Deserialize<Dictionary<string, string>>(p.VariablesJson) ?? [];
                p.Body = renderer.Render(template, variables, p.Address);
                p.Media = media.Length == 0 ? [] : media.Select(m => renderer.Render(m, variables, p.Address)).ToArray();
                p.Segments = countSegments ? Math.Max(1, SmsSegments.Count(p.Body).Segments) : 1;
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
            {
                p.Fail(MessageStatus.Failed, "render", $"The message can't be rendered for this recipient: {ex.Message}", retryable: false);
            }
        }
    }
}

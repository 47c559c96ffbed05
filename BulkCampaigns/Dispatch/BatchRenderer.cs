using System.Text.Json;
using BulkCampaigns.Content;
using BulkCampaigns.Content.TwilioTemplates;
using BulkCampaigns.Operations;
using Fluid;

namespace BulkCampaigns.Dispatch;

/// <summary>The render step: the operation's content for its sender's channel, parsed once, rendered per message.</summary>
public sealed class BatchRenderer(TemplateRenderer renderer, Links.ShortLinks links)
{
    public void Render(BatchOperation op, List<BatchMessage> work)
    {
        if (VariantPlan.Of(op.ContentJson) is not { } plan)
        {
            Render(op, op.ContentJson, work);
            return;
        }
        // An A/B operation: each message with its own variant's content (its stored index; the plan's pick for a
        // message written without one, which the creation never leaves behind outside the held).
        foreach (var variant in work.GroupBy(p => p.Variant is { } v && v >= 0 && v < plan.Contents.Count ? v : plan.Pick(VariantPlan.Bucket(op.Id, p.Address, 0))))
        {
            Render(op, plan.Contents[variant.Key], variant.ToList());
        }
    }

    private void Render(BatchOperation op, string contentJson, List<BatchMessage> work)
    {
        var content = ChannelContent.Resolve(contentJson, op.FromChannel);
        if (content.ContentSid is not null)
        {
            RenderTwilioTemplate(op, content, work);
            return;
        }
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
                if (content.TrackLinks)
                {
                    p.Body = links.Shorten(p.Body, p.Id, p.LinkUrls);
                }
                p.Media = media.Length == 0 ? [] : media.Select(m => renderer.Render(m, variables, p.Address)).ToArray();
                p.Segments = countSegments ? Math.Max(1, SmsSegments.Count(p.Body).Segments) : 1;
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
            {
                p.Fail(MessageStatus.Failed, "render", $"The message can't be rendered for this recipient: {ex.Message}", retryable: false);
            }
        }
    }

    /// <summary>
    /// A Twilio template: each variable's Liquid parsed once and rendered per message into <c>ContentVariables</c>; the body is
    /// the template's text filled with them (<see cref="TwilioTemplateText.Fill"/>, as the preview does), which is what the
    /// phone shows, what SMS segments are counted on and what a crash recovery looks for.
    /// </summary>
    private void RenderTwilioTemplate(BatchOperation op, ResolvedContent content, List<BatchMessage> work)
    {
        var names = content.ContentVariables?.Keys.ToArray() ?? [];
        IFluidTemplate[] values;
        try
        {
            values = names.Select(n => renderer.Parse(content.ContentVariables![n])).ToArray();
        }
        catch (TemplateSyntaxException ex)
        {
            foreach (var p in work)
            {
                p.Fail(MessageStatus.Failed, "render", $"The template's variables can't be rendered: {ex.Message}", retryable: false);
            }
            return;
        }
        var countSegments = op.FromChannel == ChannelNames.Sms;
        var rendered = new Dictionary<string, string>(names.Length, StringComparer.Ordinal);
        foreach (var p in work)
        {
            try
            {
                var variables = JsonSerializer.Deserialize<Dictionary<string, string>>(p.VariablesJson) ?? [];
                rendered.Clear();
                string? tooLong = null;
                for (var i = 0; i < names.Length; i++)
                {
                    var value = renderer.Render(values[i], variables, p.Address);
                    rendered[names[i]] = value;
                    if (value.Length > ContentRules.MaxTemplateValueLength)
                    {
                        tooLong ??= names[i];
                    }
                }
                if (tooLong is not null)
                {
                    p.Fail(MessageStatus.Failed, "render", $"{{{{{tooLong}}}}} is {rendered[tooLong].Length} characters for this recipient; Twilio takes at most {ContentRules.MaxTemplateValueLength}.", retryable: false);
                    continue;
                }
                p.ContentSid = content.ContentSid;
                p.ContentVariables = JsonSerializer.Serialize(rendered);
                p.Body = TwilioTemplateText.Fill(content.Text, rendered);
                p.Media = [];
                p.Segments = countSegments ? Math.Max(1, SmsSegments.Count(p.Body).Segments) : 1;
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
            {
                p.Fail(MessageStatus.Failed, "render", $"The message can't be rendered for this recipient: {ex.Message}", retryable: false);
            }
        }
    }
}

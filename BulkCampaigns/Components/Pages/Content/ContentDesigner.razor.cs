using BulkCampaigns.Content;
using BulkCampaigns.Content.TwilioTemplates;
using Microsoft.AspNetCore.Components;

namespace BulkCampaigns.Components.Pages.Content;

public enum DesignMode
{
    Text,
    Rich,
    TwilioTemplate,
}

/// <summary>
/// Edits a <see cref="MessageContent"/> and previews it live. Each edit is reported through
/// <see cref="ContentChanged"/> at once; the preview follows after <see cref="PreviewDelay"/> without
/// further typing. While the content has an error the last good preview stays, drawn as stale.
/// </summary>
public partial class ContentDesigner : IDisposable
{
    private const string TextField = "content.text";
    private const string FallbackField = "content.modules[1].sms.text";

    private MessageContent? _loaded;
    private DesignMode _mode = DesignMode.Text;
    private string _text = "";
    private List<string> _media = [];
    private string _richChannel = ChannelNames.Rcs;
    private string _richText = "";
    private RichCard _card = new();
    private string _fallback = "";
    private string? _templateSid;
    private Dictionary<string, string> _templateValues = new(StringComparer.Ordinal);
    private TwilioTemplateCatalogue? _catalogue;
    private string? _catalogueError;
    private bool _catalogueLoading;

    private PreviewSample _sample = PreviewSample.Default;
    private ContentPreview? _preview;
    private List<ContentProblem> _problems = [];
    // The rich fields the marketer has edited: a card's problems show once it is touched (or on save), not on an empty card.
    private readonly HashSet<string> _touched = new(StringComparer.Ordinal);
    private bool _revealAll;
    private CancellationTokenSource? _pending;

    [Inject]
    private ContentService Service { get; set; } = default!;

    private IReadOnlyList<string> Placeholders => _sample.AttributeKeys;

    private string RichTextField => RichPrefix + ".text";

    private string RichPrefix => $"content.modules[0].{(_richChannel == ChannelNames.WhatsApp ? "whatsapp" : "rcs")}";

    /// <summary>The content as the editors hold it now, in the API's shape.</summary>
    public MessageContent Current => Build();

    protected override async Task OnParametersSetAsync()
    {
        OnParametersChanged();
        if (_mode == DesignMode.TwilioTemplate && _catalogue is null && !_catalogueLoading && _catalogueError is null)
        {
            await LoadCatalogueAsync(refresh: false);
        }
    }

    /// <summary>Reads the provider's templates (again, with <paramref name="refresh"/>); a failure is shown as Twilio's reason.</summary>
    private async Task LoadCatalogueAsync(bool refresh)
    {
        _catalogueLoading = true;
        _catalogueError = null;
        StateHasChanged();
        try
        {
            _catalogue = await Service.TwilioTemplatesAsync(refresh);
        }
        catch (TwilioTemplateCatalogueException ex)
        {
            _catalogueError = ex.Message;
        }
        finally
        {
            _catalogueLoading = false;
        }
        UpdatePreview();
    }

    private void PickTemplate(string sid)
    {
        if (sid == _templateSid)
        {
            return;
        }
        _templateSid = sid;
        // Keep what was mapped for the variables the new template shares with the old one.
        var variables = _catalogue?.Find(sid)?.Variables.Keys ?? [];
        _templateValues = variables.ToDictionary(v => v, v => _templateValues.GetValueOrDefault(v) ?? "", StringComparer.Ordinal);
    }

    private void OnParametersChanged()
    {
        if (GroupId is not null && ReferenceEquals(_sample, PreviewSample.Default))
        {
            // No made-up values while the audience's recipient loads.
            _sample = new PreviewSample(new Dictionary<string, string>(StringComparer.Ordinal), null, []);
        }
        if (!ReferenceEquals(Content, _loaded))
        {
            _loaded = Content;
            Load(Content ?? new MessageContent { Text = "" });
            UpdatePreview();
        }
    }

    private void Load(MessageContent content)
    {
        if (content.IsTwilioTemplate)
        {
            _mode = DesignMode.TwilioTemplate;
            _templateSid = string.IsNullOrEmpty(content.ContentSid) ? null : content.ContentSid;
            _templateValues = new Dictionary<string, string>(content.ContentVariables ?? [], StringComparer.Ordinal);
            return;
        }
        if (content.Modules is { Count: > 0 } modules)
        {
            _mode = DesignMode.Rich;
            var rich = modules.FirstOrDefault(m => m.Rich is not null);
            _richChannel = rich?.Channel ?? ChannelNames.Rcs;
            _richText = rich?.Rich?.Text ?? "";
            var card = rich?.Rich?.RichCard;
            _card = new RichCard
            {
                Title = card?.Title,
                Description = card?.Description,
                Media = card?.Media?.ToList() ?? rich?.Rich?.Media?.ToList(),
                Suggestions = card?.Suggestions?.Select(s => new CardSuggestion { Type = s.Type, Title = s.Title, Url = s.Url }).ToList(),
            };
            _fallback = modules.FirstOrDefault(m => m.Sms is not null)?.Sms?.Text ?? "";
            _text = _fallback;
            _media = [];
        }
        else
        {
            _mode = DesignMode.Text;
            _text = content.Text ?? "";
            _media = content.Media?.ToList() ?? [];
            _fallback = _text;
        }
    }

    private MessageContent Build()
    {
        if (_mode == DesignMode.TwilioTemplate)
        {
            return new MessageContent { ContentSid = _templateSid ?? "", ContentVariables = new Dictionary<string, string>(_templateValues, StringComparer.Ordinal) };
        }
        if (_mode == DesignMode.Text)
        {
            var media = _media.Where(m => !string.IsNullOrWhiteSpace(m)).Select(m => m.Trim()).ToList();
            return new MessageContent { Text = _text, Media = media.Count > 0 ? media : null };
        }
        var card = new RichCard
        {
            Title = NullIfBlank(_card.Title),
            Description = NullIfBlank(_card.Description),
            Media = _card.Media?.Where(m => !string.IsNullOrWhiteSpace(m)).ToList() is { Count: > 0 } cardMedia ? cardMedia : null,
            Suggestions = _card.Suggestions is { Count: > 0 } ? _card.Suggestions.Select(s => new CardSuggestion { Type = s.Type, Title = s.Title, Url = s.Type == "URL" ? s.Url : null }).ToList() : null,
        };
        var hasCard = card.Title is not null || card.Description is not null || card.Media is not null || card.Suggestions is not null;
        var richModule = new RichModule { Text = NullIfBlank(_richText), RichCard = hasCard ? card : null };
        var modules = new List<ContentModule>
        {
            _richChannel == ChannelNames.WhatsApp ? new ContentModule { Whatsapp = richModule } : new ContentModule { Rcs = richModule },
        };
        if (!string.IsNullOrWhiteSpace(_fallback))
        {
            modules.Add(new ContentModule { Sms = new SmsModule { Text = _fallback } });
        }
        return new MessageContent { Modules = modules };
    }

    private static string? NullIfBlank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    private async Task SetModeAsync(DesignMode mode)
    {
        if (mode == _mode)
        {
            return;
        }
        // Carry the text across: the SMS text becomes the fallback and back.
        if (mode == DesignMode.Rich && _mode == DesignMode.Text)
        {
            _fallback = _text;
        }
        else if (mode == DesignMode.Text && _mode == DesignMode.Rich)
        {
            _text = _fallback;
        }
        await EditAsync(() => _mode = mode);
        if (mode == DesignMode.TwilioTemplate && _catalogue is null)
        {
            await LoadCatalogueAsync(refresh: false);
        }
    }

    private async Task EditAsync(Action change)
    {
        change();
        await ContentChanged.InvokeAsync(Build());
        SchedulePreview();
    }

    private Task SetSampleAsync(PreviewSample sample)
    {
        _sample = sample;
        UpdatePreview();
        return Task.CompletedTask;
    }

    private void SchedulePreview()
    {
        _pending?.Cancel();
        _pending?.Dispose();
        _pending = null;
        if (PreviewDelay <= TimeSpan.Zero)
        {
            UpdatePreview();
            return;
        }
        var pending = _pending = new CancellationTokenSource();
        _ = PreviewLaterAsync(pending.Token);
    }

    private async Task PreviewLaterAsync(CancellationToken token)
    {
        try
        {
            await Task.Delay(PreviewDelay, token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        await InvokeAsync(() =>
        {
            if (!token.IsCancellationRequested)
            {
                UpdatePreview();
                StateHasChanged();
            }
        });
    }

    private void UpdatePreview()
    {
        var content = Build();
        if (_mode == DesignMode.Text && string.IsNullOrWhiteSpace(content.Text) && content.Media is null)
        {
            _problems = [];
            _preview = null; // nothing to preview yet
            return;
        }
        List<ContentProblem> templateProblems = [];
        if (_mode == DesignMode.TwilioTemplate)
        {
            if (_templateSid is null || _catalogue is null)
            {
                _problems = [];
                _preview = null; // no template picked, or the catalogue is not read yet
                return;
            }
            // The checks the API makes against the catalogue, with the template's text taken in as ContentService.ResolveTwilioTemplateAsync does.
            var template = _catalogue.Find(_templateSid);
            templateProblems = ContentRules.CheckTemplate(content, template);
            content.TemplateText = template?.Text;
        }
        var result = Service.Preview(content, _sample.Variables, _sample.Address, _sample.AttributeKeys);
        _problems = [.. result.Problems.Concat(templateProblems).DistinctBy(p => (p.Field, p.Message))];
        if (result.Preview is { } preview)
        {
            _preview = preview;
        }
    }

    private ContentProblem? FieldError(string field) => VisibleProblems.FirstOrDefault(p => p.Field == field);

    /// <summary>The problems shown: all of them for text; in a rich card only those of fields edited so far, until a save reveals all.</summary>
    private List<ContentProblem> VisibleProblems =>
        _revealAll || _mode != DesignMode.Rich
            ? _problems
            : _problems.Where(p => p.IsSyntaxError || !p.Field.StartsWith("content.modules", StringComparison.Ordinal) || _touched.Any(t => p.Field.StartsWith(t, StringComparison.Ordinal))).ToList();

    /// <summary>Shows every problem, touched or not: a save was refused.</summary>
    public void RevealProblems()
    {
        _revealAll = true;
        StateHasChanged();
    }

    private Task EditRichAsync(string field, Action change)
    {
        _touched.Add(field);
        return EditAsync(change);
    }

    public void Dispose()
    {
        _pending?.Cancel();
        _pending?.Dispose();
        GC.SuppressFinalize(this);
    }
}

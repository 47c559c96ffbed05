using System.Globalization;
using System.Xml;
using BulkCampaigns.Content;

namespace BulkCampaigns.Components.Pages.Content;

/// <summary>
/// Edits a content that may be an A/B test (docs/api.md: A/B variants): each variant has its name, weight and a
/// <see cref="ContentDesigner"/> of its own (its own live preview), in a tab; the test's share, wait and metric below.
/// Reports the whole content, in the API's shape, through <see cref="ContentChanged"/> at each edit. The variants' own
/// problems are their designers'; the names, weights and the test are checked here by the same <see cref="ContentRules"/>.
/// </summary>
public partial class VariantDesigner
{
    private MessageContent? _loaded;
    private MessageContent? _reported;
    private bool _ab;
    private MessageContent _singleInput = new() { Text = "" };
    private MessageContent? _singleCurrent;
    private ContentDesigner? _single;
    private List<VariantState> _variants = [];
    private int _active;
    private bool _test;
    private double? _share = 20;
    private double? _hours = 4;
    private string _metric = ContentRules.MetricDelivered;
    private bool _revealAll;
    private int _nextKey;

    /// <summary>The content as the editors hold it now.</summary>
    public MessageContent Current => Build();

    private sealed class VariantState(int key, string? name, double? weight, MessageContent input)
    {
        public int Key { get; } = key;
        public string? Name { get; set; } = name;
        public double? Weight { get; set; } = weight;

        /// <summary>What its designer was given (kept the same instance, so the designer keeps its state).</summary>
        public MessageContent Input { get; } = input;
        public MessageContent Current { get; set; } = input;
        public ContentDesigner? Designer { get; set; }
    }

    protected override void OnParametersSet()
    {
        if (ReferenceEquals(Content, _loaded) || Content is null)
        {
            return;
        }
        _loaded = Content;
        if (ReferenceEquals(Content, _reported))
        {
            // What the editors reported themselves, handed back (the wizard keeps it as its draft): they hold it already.
            // Loading it again would rebuild every variant's tab under a new key, replacing the field being typed in.
            return;
        }
        if (Content.Variants is { Count: > 0 } variants)
        {
            _ab = true;
            _variants = variants.Select(v => New(v.Name, v.Weight, v.Content ?? new MessageContent { Text = "" })).ToList();
            _test = Content.Test is not null;
            if (Content.Test is { } test)
            {
                _share = test.Share;
                _hours = ContentRules.TryReadDuration(test.DecideAfter, out var wait) ? wait.TotalHours : null;
                _metric = test.Metric ?? ContentRules.MetricDelivered;
            }
        }
        else
        {
            _ab = false;
            _singleInput = Content;
            _singleCurrent = null;
        }
    }

    private VariantState New(string? name, double? weight, MessageContent content) => new(_nextKey++, name, weight, content);

    private MessageContent Build()
    {
        if (!_ab)
        {
            return _singleCurrent ?? _single?.Current ?? _singleInput;
        }
        return new MessageContent
        {
            Variants = _variants.Select(v => new ContentVariant { Name = v.Name?.Trim(), Weight = v.Weight, Content = v.Current }).ToList(),
            Test = _test
                ? new VariantTest
                {
                    Share = _share,
                    DecideAfter = _hours is { } h && h > 0 && double.IsFinite(h) ? XmlConvert.ToString(TimeSpan.FromHours(h)) : null,
                    Metric = _metric,
                }
                : null,
        };
    }

    /// <summary>The problems of the variants' names and weights and of the test; each variant's content shows its own.</summary>
    private List<ContentProblem> OwnProblems
    {
        get
        {
            if (!_ab)
            {
                return [];
            }
            var problems = ContentRules.Validate(Build(), Renderer);
            return problems.Where(p => !p.Field.Contains("].content", StringComparison.Ordinal)
                && (_revealAll || p.Field.EndsWith(".weight", StringComparison.Ordinal) || p.Field.EndsWith(".name", StringComparison.Ordinal) || p.Field.StartsWith("content.test", StringComparison.Ordinal))).ToList();
        }
    }

    private string? FieldError(string field) => OwnProblems.FirstOrDefault(p => p.Field == field)?.Message;

    private string ShareText(VariantState variant)
    {
        var total = _variants.Sum(v => v.Weight is { } w && w > 0 ? w : 0);
        return variant.Weight is { } weight && weight > 0 && total > 0 ? (100 * weight / total).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "none";
    }

    private async Task SetAbAsync(bool on)
    {
        if (on == _ab)
        {
            return;
        }
        var current = Build();
        _ab = on;
        if (on)
        {
            // Both start from what was written; the marketer changes B.
            _variants = [New("A", 50, current.Clone()), New("B", 50, current.Clone())];
            _active = 0;
        }
        else
        {
            _singleInput = _variants.FirstOrDefault()?.Current.Clone() ?? new MessageContent { Text = "" };
            _singleCurrent = null;
        }
        await ReportAsync(Build());
    }

    private Task SingleChangedAsync(MessageContent content)
    {
        _singleCurrent = content;
        return ReportAsync(content);
    }

    private Task AddAsync()
    {
        var name = ((char)('A' + _variants.Count)).ToString();
        _variants.Add(New(name, 50, (_variants.LastOrDefault()?.Current ?? new MessageContent { Text = "" }).Clone()));
        _active = _variants.Count - 1;
        return ReportAsync(Build());
    }

    private Task RemoveAsync(VariantState variant)
    {
        _variants.Remove(variant);
        _active = Math.Min(_active, _variants.Count - 1);
        return ReportAsync(Build());
    }

    private Task EditAsync(Action edit)
    {
        edit();
        return ReportAsync(Build());
    }

    private Task ReportAsync(MessageContent content)
    {
        _reported = content;
        return ContentChanged.InvokeAsync(content);
    }

    /// <summary>Shows every problem (on save), in each variant's designer too.</summary>
    public void RevealProblems()
    {
        _revealAll = true;
        _single?.RevealProblems();
        foreach (var variant in _variants)
        {
            variant.Designer?.RevealProblems();
        }
        StateHasChanged();
    }
}

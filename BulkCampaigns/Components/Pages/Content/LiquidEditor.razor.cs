using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;

namespace BulkCampaigns.Components.Pages.Content;

public partial class LiquidEditor : IAsyncDisposable
{
    private readonly string _id = "liquid-" + Guid.NewGuid().ToString("N")[..8];
    private bool _showHelp;
    private IJSObjectReference? _module;

    [Inject]
    private IJSRuntime JS { get; set; } = default!;

    [Parameter, EditorRequired]
    public string Label { get; set; } = "";

    [Parameter]
    public string? Value { get; set; }

    [Parameter]
    public EventCallback<string> ValueChanged { get; set; }

    /// <summary>Variable names offered in the insert menu (the chosen group's attributes).</summary>
    [Parameter]
    public IReadOnlyList<string> Placeholders { get; set; } = [];

    /// <summary>The Liquid syntax error of this field, if any, shown under it.</summary>
    [Parameter]
    public BulkCampaigns.Content.ContentProblem? Error { get; set; }

    [Parameter]
    public int Rows { get; set; } = 6;

    [Parameter]
    public string? Hint { get; set; }

    [Parameter]
    public string? TestId { get; set; }

    /// <summary>Each column with what a template writes to read it ("First Name" → first_name); null when nothing reaches it.</summary>
    private IEnumerable<(string Column, string? Name)> AllPlaceholders =>
        BulkCampaigns.Content.VariableKeys.Placeholders([.. Placeholders.Where(p => p != "address").Distinct(StringComparer.Ordinal)]).Append(("address", "address"));

    private static string? VariableKeyOf(string column) => BulkCampaigns.Content.VariableKeys.Key(column);

    private static string Placeholder(string name) => "{{ " + name + " }}";

    internal static class Snippets
    {
        public const string Default = "{{ first_name | default: 'there' }}";
        public const string Upcase = "{{ first_name | upcase }}";
        public const string If = "{% if tier == 'gold' %}Thanks for being gold!{% else %}Thanks!{% endif %}";
        public const string Unless = "{% unless opted_in %}Reply YES to join.{% endunless %}";
    }

    /// <summary>
    /// What the field holds is the browser's: typing never comes back from the server. A page that awaits on each edit
    /// (the wizard saves its draft) renders meanwhile with a value this editor reported a few keys ago; any way of
    /// drawing that into the field (a <c>value</c> that follows the typing, or <c>@bind</c>) sent the field back now and
    /// then and lost what was typed since (seen in Chromium at 15 ms a key on a busy machine). So the field's
    /// <c>value</c> is <see cref="_shown"/>, which changes only when the page sets a value of its own (a template
    /// loaded, a snippet inserted), and such a value is also written into the field by script after the render, in case
    /// it equals the last one shown. A page value is told apart from an echo of typing by not being among the last
    /// values this editor reported or took from the page.
    /// </summary>
    private string _value = "";
    private string _shown = "";
    private bool _writePending;
    private readonly Queue<string> _recent = new();
    private const int RecentKept = 256;

    protected override void OnParametersSet()
    {
        var given = Value ?? "";
        if (given != _value && !_recent.Contains(given, StringComparer.Ordinal))
        {
            Show(given); // set by the page (a template loaded, a snippet inserted)
        }
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!_writePending)
        {
            return;
        }
        _writePending = false;
        try
        {
            _module ??= await JS.InvokeAsync<IJSObjectReference>("import", "./js/content-designer.js");
            if (_module is not null)
            {
                await _module.InvokeVoidAsync("setValue", _id, _shown);
            }
        }
        catch (JSException)
        {
            // The rendered value attribute is there anyway.
        }
        catch (JSDisconnectedException)
        {
        }
    }

    /// <summary>A value of the page's own (not typed here) goes into the field.</summary>
    private void Show(string value)
    {
        _value = value;
        _shown = value;
        _writePending = true;
        Remember(value);
    }

    private Task OnInputAsync(ChangeEventArgs e) => ReportAsync(e.Value as string);

    private Task ReportAsync(string? typed)
    {
        var value = typed ?? "";
        _value = value;
        Remember(value);
        return ValueChanged.InvokeAsync(value);
    }

    private void Remember(string value)
    {
        _recent.Enqueue(value);
        if (_recent.Count > RecentKept)
        {
            _recent.Dequeue();
        }
    }

    /// <summary>Inserts at the cursor (or replaces the selection); at the end when the browser can't say where the cursor is.</summary>
    private async Task InsertAsync(string snippet)
    {
        var text = _value;
        int start = text.Length, end = text.Length;
        try
        {
            _module ??= await JS.InvokeAsync<IJSObjectReference>("import", "./js/content-designer.js");
            if (_module is not null && await _module.InvokeAsync<int[]?>("selection", _id) is [var s, var e] && s >= 0 && e >= s && e <= text.Length)
            {
                (start, end) = (s, e);
            }
        }
        catch (JSException)
        {
            // Keep the end of the text.
        }
        catch (JSDisconnectedException)
        {
            return;
        }
        var updated = string.Concat(text.AsSpan(0, start), snippet, text.AsSpan(end));
        Show(updated);
        await ValueChanged.InvokeAsync(updated);
        try
        {
            if (_module is not null)
            {
                await _module.InvokeVoidAsync("setValue", _id, updated);
                await _module.InvokeVoidAsync("placeCursor", _id, start + snippet.Length);
            }
        }
        catch (JSException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_module is not null)
        {
            try
            {
                await _module.DisposeAsync();
            }
            catch (JSDisconnectedException)
            {
            }
        }
        GC.SuppressFinalize(this);
    }
}

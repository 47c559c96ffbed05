using BulkCampaigns.Content;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;

namespace BulkCampaigns.Components.Pages.Content;

/// <summary>The recipient a preview is rendered for.</summary>
/// <param name="AttributeKeys">The variables recipients of the chosen group carry (the typed names when typed): the known placeholders.</param>
public sealed record PreviewSample(IReadOnlyDictionary<string, string> Variables, string? Address, IReadOnlyList<string> AttributeKeys)
{
    public static readonly PreviewSample Default = new(
        new Dictionary<string, string>(StringComparer.Ordinal) { ["first_name"] = "Ana" }, "+15551230000", ["first_name"]);
}

public enum SampleMode
{
    Typed,
    Group,
}

public partial class SampleRecipientPicker
{
    private SampleMode _mode = SampleMode.Typed;
    private List<GroupOption> _groups = [];
    private long? _groupId;
    private SampleRecipient? _recipient;
    private string? _notFound;
    private string? _search;
    private string? _address = PreviewSample.Default.Address;
    private readonly List<(string Name, string Value)> _typed = [.. PreviewSample.Default.Variables.Select(p => (p.Key, p.Value))];

    [Inject]
    private ContentService Content { get; set; } = default!;

    private long? _appliedGroupId;

    [Parameter]
    public EventCallback<PreviewSample> SampleChanged { get; set; }

    /// <summary>A group to preview a recipient of from the start (the campaign's audience); the marketer may still pick another.</summary>
    [Parameter]
    public long? GroupId { get; set; }

    protected override async Task OnInitializedAsync() => _groups = await Content.GroupsAsync();

    protected override async Task OnParametersSetAsync()
    {
        if (GroupId is { } id && id != _appliedGroupId)
        {
            _appliedGroupId = id;
            _mode = SampleMode.Group;
            await SelectGroupAsync(id);
        }
    }

    private GroupOption? Group => _groups.FirstOrDefault(g => g.Id == _groupId);

    private async Task SetModeAsync(SampleMode mode)
    {
        _mode = mode;
        if (mode == SampleMode.Group)
        {
            _groups = await Content.GroupsAsync(); // groups imported since the page opened show up
        }
        await PublishAsync();
    }

    private async Task SelectGroupAsync(long? groupId)
    {
        _groupId = groupId;
        _search = null;
        _recipient = groupId is { } id ? await Content.SampleAsync(id) : null;
        _notFound = _recipient is null ? "This group has no recipients yet." : null;
        await PublishAsync();
    }

    private async Task NextAsync()
    {
        if (_groupId is { } id && _recipient is { } current)
        {
            // At the end, wrap around to the first.
            await ShowAsync(await Content.SampleAsync(id, current.Id, search: _search) ?? await Content.SampleAsync(id, search: _search));
        }
    }

    private async Task PreviousAsync()
    {
        if (_groupId is { } id && _recipient is { } current)
        {
            await ShowAsync(await Content.SampleAsync(id, current.Id, backwards: true, search: _search) ?? await Content.SampleAsync(id, backwards: true, search: _search));
        }
    }

    private async Task SearchAsync()
    {
        if (_groupId is not { } id)
        {
            return;
        }
        if (await Content.SampleAsync(id, search: _search) is { } found)
        {
            await ShowAsync(found);
        }
        else
        {
            _notFound = $"No recipient's address starts with {_search}; still showing the one before.";
        }
    }

    private Task OnSearchKeyAsync(KeyboardEventArgs e) => e.Key == "Enter" ? SearchAsync() : Task.CompletedTask;

    private async Task ShowAsync(SampleRecipient? recipient)
    {
        if (recipient is null)
        {
            return;
        }
        _recipient = recipient;
        _notFound = null;
        await PublishAsync();
    }

    private async Task SetAddressAsync(string? address)
    {
        _address = address;
        await PublishAsync();
    }

    private async Task SetTypedAsync(int index, string? name, string? value)
    {
        var (oldName, oldValue) = _typed[index];
        _typed[index] = (name?.Trim() ?? oldName, value ?? oldValue);
        await PublishAsync();
    }

    private async Task AddTypedAsync()
    {
        _typed.Add(($"var{_typed.Count + 1}", ""));
        await PublishAsync();
    }

    private async Task RemoveTypedAsync(int index)
    {
        _typed.RemoveAt(index);
        await PublishAsync();
    }

    private Task PublishAsync()
    {
        PreviewSample sample;
        if (_mode == SampleMode.Group && Group is { } group)
        {
            sample = new PreviewSample(_recipient?.Variables ?? new Dictionary<string, string>(), _recipient?.Address, group.AttributeKeys);
        }
        else
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, value) in _typed.Where(t => t.Name.Length > 0))
            {
                variables[name] = value;
            }
            sample = new PreviewSample(variables, string.IsNullOrWhiteSpace(_address) ? null : _address.Trim(), [.. variables.Keys]);
        }
        return SampleChanged.InvokeAsync(sample);
    }
}

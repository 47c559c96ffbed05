using BulkCampaigns.Content;
using Microsoft.AspNetCore.Components;

namespace BulkCampaigns.Components.Pages.Content;

public partial class RichCardEditor
{
    [Parameter, EditorRequired]
    public RichCard Card { get; set; } = new();

    /// <summary>A changed copy of the card; the parameter itself is never changed.</summary>
    [Parameter]
    public EventCallback<RichCard> CardChanged { get; set; }

    [Parameter]
    public IReadOnlyList<string> Placeholders { get; set; } = [];

    /// <summary>The problems of the content, to show the ones of this card's fields.</summary>
    [Parameter]
    public IReadOnlyList<ContentProblem> Problems { get; set; } = [];

    /// <summary>The API path of this card, e.g. <c>content.modules[0].rcs.richCard</c>.</summary>
    [Parameter]
    public string FieldPrefix { get; set; } = "";

    private ContentProblem? TitleError => ErrorFor("title");

    private ContentProblem? DescriptionError => ErrorFor("description");

    private List<CardSuggestion> Suggestions => Card.Suggestions ?? [];

    private ContentProblem? ErrorFor(string field) =>
        Problems.FirstOrDefault(p => p.IsSyntaxError && p.Field == $"{FieldPrefix}.{field}");

    private Task ChangeAsync(Action<RichCard> change)
    {
        var copy = Copy(Card);
        change(copy);
        return CardChanged.InvokeAsync(copy);
    }

    private Task ChangeSuggestionAsync(int index, Action<CardSuggestion> change) => ChangeAsync(c => change(c.Suggestions![index]));

    private Task AddSuggestionAsync() => ChangeAsync(c => (c.Suggestions ??= []).Add(new CardSuggestion { Type = "REPLY", Title = "" }));

    private Task RemoveSuggestionAsync(int index) => ChangeAsync(c =>
    {
        c.Suggestions!.RemoveAt(index);
        if (c.Suggestions.Count == 0)
        {
            c.Suggestions = null;
        }
    });

    private static RichCard Copy(RichCard card) => new()
    {
        Title = card.Title,
        Description = card.Description,
        Media = card.Media?.ToList(),
        Suggestions = card.Suggestions?.Select(s => new CardSuggestion { Type = s.Type, Title = s.Title, Url = s.Url }).ToList(),
    };
}

using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>Steps several browser tests take the same way: opening a MudSelect, making a group, uploading a contact file.</summary>
public static class BrowserSteps
{
    /// <summary>
    /// Waits until the page's address satisfies <paramref name="matches"/>, for moves between the app's own pages. Blazor
    /// makes those with history.pushState, and <c>WaitForURLAsync</c> then waits for a navigation event: in loaded runs
    /// it timed out with the page already at the address (the event came while the wait was being set up). This reads
    /// the address itself until it matches.
    /// </summary>
    public static async Task WaitForAddressAsync(IPage page, Func<string, bool> matches, string what, int timeoutSeconds = 60)
    {
        var until = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!matches(page.Url))
        {
            Assert.True(DateTime.UtcNow < until, $"{what} did not happen within {timeoutSeconds} s: the page stayed at {page.Url}");
            await Task.Delay(50);
        }
    }

    /// <summary>Opens a MudSelect (clicking again if a re-render swallowed the first click) until the option shows.</summary>
    public static async Task OpenSelectAsync(IPage page, string testId, string option)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await page.GetByTestId(testId).GetByRole(AriaRole.Combobox).First.ClickAsync();
            try
            {
                await page.Locator(".mud-popover-open").GetByText(option).WaitForAsync(new() { Timeout = 2000 });
                return;
            }
            catch (TimeoutException)
            {
            }
        }
        Assert.Fail($"the {testId} list never showed {option}");
    }

    /// <summary>Creates a group from the Recipients page and opens it, as a marketer does.</summary>
    public static async Task<IPage> OpenNewGroupAsync(BrowserPage session, string name)
    {
        var page = session.Page;
        await page.GetByRole(AriaRole.Link, new() { Name = "Recipients", Exact = true }).ClickAsync();
        await page.GetByLabel("New group name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create group" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = name, Level = 1 })).ToBeVisibleAsync();
        return page;
    }

    /// <summary>Hands a file to the group page's upload field once its script is attached.</summary>
    public static Task ChooseContactFileAsync(IPage page, string path) =>
        page.Locator("[data-testid=csv-file][data-attached=true]").SetInputFilesAsync(path);

    /// <summary>The mapping of a file whose address column is "Mobile Number".</summary>
    public static Task ExpectMappingAsync(IPage page, float timeout = 5_000) =>
        Expect(page.GetByRole(AriaRole.Columnheader, new() { Name = "Mobile Number (address)" })).ToBeVisibleAsync(new() { Timeout = timeout });

    /// <summary>The address a content preview shows (a US number), once it shows one.</summary>
    public static async Task<string> SampleAddressAsync(ILocator address)
    {
        await Expect(address).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\+1\d{10}$"));
        return await address.InnerTextAsync();
    }
}

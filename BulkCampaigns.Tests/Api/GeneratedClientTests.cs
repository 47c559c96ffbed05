using System.Text;
using BulkCampaigns.Tests.Api.Client;
using BulkCampaigns.Tests.Api.Client.Models;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options;

namespace BulkCampaigns.Tests.Api;

/// <summary>The app on a real port, for a client that speaks plain HTTP to it as an integrator's would.</summary>
public sealed class KestrelApp : IAsyncLifetime
{
    public AppFactory App { get; } = new();
    public string BaseUrl { get; private set; } = "";

    public Task InitializeAsync()
    {
        App.UseKestrel(0);
        App.StartServer();
        BaseUrl = App.ClientOptions.BaseAddress.ToString().TrimEnd('/');
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}

/// <summary>
/// The client Kiota generates from the app's own document (Api/Client, kept equal to the document by
/// <see cref="GeneratedClientDriftTests"/>) does an integrator's day without a hand-built URL, header or body.
/// </summary>
public sealed class GeneratedClientTests(KestrelApp server) : IClassFixture<KestrelApp>
{
    private BulkCampaignsApiClient NewClient()
    {
        // The document's security scheme is HTTP Basic with the key's SID and secret. Kiota's own API-key provider only
        // speaks https, and this server is plain http on a local port, so a small provider adds the credentials.
        var auth = new BasicAuthentication(AppFactory.ApiKeySid, AppFactory.ApiKeySecret);
        return new BulkCampaignsApiClient(new HttpClientRequestAdapter(auth) { BaseUrl = server.BaseUrl });
    }

    [Fact]
    public async Task A_generated_client_creates_a_sender_imports_pages_sends_filters_and_gets_typed_errors()
    {
        var client = NewClient();

        // A sender with its MPS: the number is sent as a number.
        var sender = await client.V1.Senders.PostAsync(new CreateSenderRequest { Address = "+14155550190", Channel = "SMS", Mps = 500 });
        Assert.Equal(500, sender!.Mps);
        Assert.Equal(500, (await client.V1.Senders[sender.Id].PatchAsync(new UpdateSenderRequest { Mps = 500 }))!.Mps);

        // A CSV imported into a new group, as the multipart part the document names.
        var group = await client.V1.Groups.PostAsync(new GroupBody { Name = "Generated client" });
        var csv = new StringBuilder("phone,first_name\n");
        for (var i = 0; i < 25; i++)
        {
            csv.Append($"+1415556{i:D4},Guest {i}\n");
        }
        var upload = new MultipartBody();
        upload.AddOrReplacePart("file", "text/csv", new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), "guests.csv");
        var started = await client.V1.Groups[group!.Id].Imports.PostAsync(upload);
        Assert.Equal("PROCESSING", started!.Status);
        var import = await WaitForAsync(() => client.V1.Groups[group.Id].Imports[started.Id].GetAsync(), i => i!.Status != "PROCESSING");
        Assert.Equal("COMPLETED", import!.Status);
        Assert.Equal(25, import.Imported);

        // The group's recipients, page by page, following each page's next link as it is.
        var addresses = new List<string>();
        var page = await client.V1.Groups[group.Id].Recipients.GetAsync(c => c.QueryParameters.PageSize = 10);
        addresses.AddRange(page!.Recipients!.Select(r => r.Address!));
        while (page!.Pagination!.Next is { } next)
        {
            Assert.StartsWith(server.BaseUrl, next, StringComparison.Ordinal);
            page = await client.V1.Groups[group.Id].Recipients.WithUrl(next).GetAsync();
            addresses.AddRange(page!.Recipients!.Select(r => r.Address!));
        }
        Assert.Equal(25, addresses.Distinct().Count());

        // A send to two inline recipients and the group; its operationId comes from the 202's headers.
        var headers = new HeadersInspectionHandlerOption { InspectResponseHeaders = true };
        await client.V1.Messages.PostAsync(new SendMessagesBody
        {
            From = new SendFrom { Address = "+14155550190", Channel = "SMS" },
            To =
            [
                new SendTo { Address = "+14155557001" },
                new SendTo { Address = "+14155557002", Variables = new SendTo_variables { AdditionalData = { ["first_name"] = "Bo" } } },
                new SendTo { GroupId = group.Id },
            ],
            Content = new MessageContent { Text = "Hello {{first_name}}" },
        }, c => c.Options.Add(headers));
        var operationId = Assert.Single(headers.ResponseHeaders["operationId"]);
        Assert.Equal($"/v1/Messages/Operations/{operationId}", Assert.Single(headers.ResponseHeaders["Location"]));
        var operation = await WaitForAsync(() => client.V1.Messages.Operations[operationId].GetAsync(), o => o!.Status == OperationStatus.COMPLETED);
        Assert.Equal(27, operation!.Stats!.Total);

        // The operation's messages, then only those in one status.
        var messages = await client.V1.Messages.GetAsync(c =>
        {
            c.QueryParameters.OperationId = operationId;
            c.QueryParameters.PageSize = 100;
        });
        Assert.Equal(27, messages!.Messages!.Count);
        Assert.All(messages.Messages, m => Assert.Equal(operationId, m.OperationId));
        var status = messages.Messages[0].Status!.Value;
        var inStatus = await client.V1.Messages.GetAsync(c =>
        {
            c.QueryParameters.OperationId = operationId;
            c.QueryParameters.Status = Enum.Parse<Client.V1.Messages.GetStatusQueryParameterType>(status.ToString());
            c.QueryParameters.PageSize = 100;
        });
        Assert.NotEmpty(inStatus!.Messages!);
        Assert.All(inStatus.Messages!, m => Assert.Equal(status, m.Status));
        Assert.Equal(messages.Messages.Count(m => m.Status == status), inStatus.Messages!.Count);

        // A bad request is a typed error with every problem by its field.
        var error = await Assert.ThrowsAsync<ApiError>(() => client.V1.Senders.PostAsync(new CreateSenderRequest { Address = "+12ab", Channel = "PIGEON", Mps = 0 }));
        Assert.Equal(400, error.ResponseStatusCode);
        Assert.Equal(400, error.Status);
        Assert.Equal(["address", "channel", "mps"], error.Errors!.Select(e => e.Field!).Order(StringComparer.Ordinal));
    }

    private sealed class BasicAuthentication(string user, string password) : IAuthenticationProvider
    {
        public Task AuthenticateRequestAsync(RequestInformation request, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default)
        {
            request.Headers.Add("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
            return Task.CompletedTask;
        }
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > until)
            {
                return value;
            }
            await Task.Delay(100);
        }
    }
}

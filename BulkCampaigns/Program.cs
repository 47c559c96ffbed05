using BulkCampaigns.Api;
using BulkCampaigns.Auth;
using BulkCampaigns.Campaigns;
using BulkCampaigns.Components;
using BulkCampaigns.Content;
using BulkCampaigns.Content.TwilioTemplates;
using BulkCampaigns.Data;
using BulkCampaigns.Components.Shared;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Dispatch.Providers;
using BulkCampaigns.Hosting;
using BulkCampaigns.Jobs;
using BulkCampaigns.Links;
using BulkCampaigns.Live;
using BulkCampaigns.Operating;
using BulkCampaigns.Operations;
using BulkCampaigns.Recipients;
using BulkCampaigns.Senders;
using BulkCampaigns.Simulator;
using BulkCampaigns.Suppressions;
using MudBlazor.Services;

if (DatabaseBackup.IsCommand(args))
{
    return await DatabaseBackup.RunCommandAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
var settingsRoot = builder.AddRepositorySettings();
if ((DataSetup.ReadProvider(builder.Configuration).Problem ?? JobsSetup.ReadStorage(builder.Configuration).Problem) is { } settingsProblem)
{
    await Console.Error.WriteLineAsync(settingsProblem);
    return 1;
}

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSettings(builder.Configuration);
builder.Services.AddAppData(builder.Configuration, settingsRoot);
builder.Services.AddAppAuth(builder.Configuration);
builder.Services.AddAppJobs(builder.Configuration);
builder.Services.AddLive(builder.Configuration);
builder.Services.AddApiPlumbing(builder.Configuration);
builder.Services.AddSingleton<TemplateRenderer>();
builder.Services.AddContent();
builder.Services.AddLinks(builder.Configuration);
builder.Services.AddSingleton<SuppressionService>();
builder.Services.AddRecipients();
builder.Services.AddSenders();
builder.Services.AddDispatch(builder.Configuration);
builder.Services.AddOperations();
builder.Services.AddCampaigns();
builder.Services.AddOperating(builder.Configuration);

builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddMudServices(config => Notifications.Configure(config.SnackbarConfiguration));
builder.Services.AddScoped<UserClock>();

var app = builder.Build();

try
{
    await DataSetup.MigrateAsync(app.Services);
}
catch (DatabaseUnavailableException ex)
{
    // One line naming the server and the reason: what an operator needs, with no stack trace to dig through.
    await Console.Error.WriteLineAsync(ex.Message);
    return 1;
}
await Bootstrap.RunAsync(app.Services, app.Configuration, app.Logger);
await app.Services.GetRequiredService<BulkCampaigns.Dispatch.NodeHeartbeat>().RegisterAsync(CancellationToken.None);

app.UseSecurityHeaders();
if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/Error", createScopeForErrors: true);
    // Only https answers carry it (and never for localhost): browsers then refuse plain http to this host.
    app.UseHsts();
}
app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
app.UseApiErrors();

app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();
app.UseAntiforgery();

app.MapStaticAssets();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
app.MapAuthEndpoints();
app.MapApiPlumbing();
var v1 = app.MapApiV1();
v1.MapContentApi();
v1.MapTwilioTemplateApi();
v1.MapRecipientsApi().MapSuppressionsApi();
v1.MapSendersApi();
v1.MapOperationsApi();
v1.MapLinksApi();
v1.MapSimulatorApi();
v1.MapNodesApi();
app.MapTwilioWebhooks();
app.MapAppJobs();
app.MapLive();
app.MapCampaignExports();
app.MapLinkRedirect();
app.MapOperating();

await app.RunAsync();
return 0;

/// <summary>Entry point; public so integration tests can host the app.</summary>
public partial class Program;

using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace BulkCampaigns.Api;

/// <summary>
/// The <c>/openapi/v1.json</c> document, kept exact enough that a generated client (Kiota, NSwag, openapi-typescript)
/// works as it comes: only the <c>/v1</c> API, a server that holds wherever the document is read from, named request
/// bodies, and the query parameters and headers the endpoints read themselves (docs/api.md: The OpenAPI document).
/// </summary>
public static class OpenApiDocument
{
    public static void Configure(OpenApiOptions o)
    {
        // The pages' own endpoints (sign-out, exports, backups, webhooks) are not part of the API a client is generated for.
        o.ShouldInclude = description => description.RelativePath?.StartsWith("v1/", StringComparison.Ordinal) == true || description.RelativePath == "v1";
        o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "BulkCampaigns API";
            doc.Info.Description = "Bulk messaging shaped like Twilio's Bulk Messaging API. Authenticate with HTTP Basic apiKeySid:apiKeySecret.";
            // The framework writes the host of whichever request fetched the document; a relative server resolves
            // against wherever the document was read from, which is the API's own address behind any proxy.
            doc.Servers = [new OpenApiServer { Url = "/", Description = "This server: the address the document was read from." }];
            doc.Components ??= new OpenApiComponents();
            doc.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            doc.Components.SecuritySchemes["basic"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "basic",
                Description = "Your API key's SID as the user name and its secret as the password (keys are made under Settings).",
            };
            doc.Security ??= [];
            doc.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("basic", doc)] = [] });
            foreach (var (name, description) in TagDescriptions)
            {
                doc.Tags ??= new HashSet<OpenApiTag>();
                if (doc.Tags.FirstOrDefault(t => t.Name == name) is { } tag)
                {
                    tag.Description = description;
                }
                else
                {
                    doc.Tags.Add(new OpenApiTag { Name = name, Description = description });
                }
            }
            return Task.CompletedTask;
        });
        o.AddSchemaTransformer((schema, context, _) =>
        {
            // A property the endpoint reads as raw JSON (to name a wrong type by its field) is shown as what it takes.
            if (schema is OpenApiSchema { Properties: { } properties } && context.JsonPropertyInfo is null)
            {
                foreach (var property in context.JsonTypeInfo.Properties)
                {
                    if (property.AttributeProvider?.GetCustomAttributes(typeof(DocumentedAsIntegerAttribute), false).FirstOrDefault() is DocumentedAsIntegerAttribute integer &&
                        properties.ContainsKey(property.Name))
                    {
                        properties[property.Name] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Integer,
                            Format = "int32",
                            Minimum = integer.Minimum.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            Maximum = integer.Maximum.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            Description = integer.Description,
                        };
                    }
                }
            }
            return Task.CompletedTask;
        });
    }

    private static readonly (string Name, string Description)[] TagDescriptions =
    [
        ("Content", "Reusable content templates and previews of what a recipient will see."),
        ("Groups", "Recipient groups, CSV imports into them, their recipients and export."),
        ("Segments", "Audiences filtered from groups by what is known of each recipient, counted live."),
        ("Suppressions", "Addresses that never receive messages (opt-outs)."),
        ("Senders", "The numbers messages are sent from, each with its messages-per-second pace."),
        ("Messages", "Send requests (operations), their messages and their control."),
        ("Simulator", "Messages the built-in simulated provider has received, for tests."),
    ];

    /// <summary>Names the operation (its <c>operationId</c>, the method name in a generated client) and says what it does.</summary>
    public static TBuilder Describes<TBuilder>(this TBuilder builder, string operationId, string summary) where TBuilder : IEndpointConventionBuilder =>
        builder.WithName(operationId).WithSummary(summary);

    /// <summary>Declares <c>pageSize</c> and <c>pageToken</c>, which <see cref="PageRequest.From"/> reads.</summary>
    public static RouteHandlerBuilder Paged(this RouteHandlerBuilder builder) => builder
        .QueryParameter("pageSize", new OpenApiSchema
        {
            Type = JsonSchemaType.Integer,
            Format = "int32",
            Minimum = "1",
            Maximum = PageRequest.MaxSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Default = JsonValue.Create(PageRequest.DefaultSize),
        }, "How many items a page holds.")
        .QueryParameter("pageToken", Text(), "Where the page starts: the token of the previous page's pagination.next link. Omit it for the first page.");

    /// <summary>Declares a query parameter the endpoint reads from the query itself (so it can name a bad value in the error format).</summary>
    public static RouteHandlerBuilder QueryParameter(this RouteHandlerBuilder builder, string name, OpenApiSchema schema, string description) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Query, Required = false, Description = description, Schema = schema });
            return Task.CompletedTask;
        });

    public static OpenApiSchema Text(string? format = null) => new() { Type = JsonSchemaType.String, Format = format };

    public static OpenApiSchema OneOf(params string[] values) => new() { Type = JsonSchemaType.String, Enum = values.Select(v => (JsonNode)JsonValue.Create(v)).ToList() };

    /// <summary>Declares response headers of one answer.</summary>
    public static RouteHandlerBuilder ResponseHeaders(this RouteHandlerBuilder builder, int status, params (string Name, string Description)[] headers) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.Responses?.TryGetValue(status.ToString(System.Globalization.CultureInfo.InvariantCulture), out var response) == true && response is OpenApiResponse writable)
            {
                writable.Headers ??= new Dictionary<string, IOpenApiHeader>();
                foreach (var (name, description) in headers)
                {
                    writable.Headers[name] = new OpenApiHeader { Description = description, Required = true, Schema = Text() };
                }
            }
            return Task.CompletedTask;
        });

    /// <summary>
    /// Describes a request body for an endpoint that reads the body itself (to name every problem by path). The body
    /// is a named schema (<typeparamref name="TBody"/>'s name) so clients get one type for it. Unlike <c>Accepts</c>,
    /// it does not make routing refuse other content types, so the endpoint still answers them with its own clear error.
    /// </summary>
    public static RouteHandlerBuilder DocumentsBody<TBody>(this RouteHandlerBuilder builder, string contentType) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, ct) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType> { [contentType] = new() { Schema = await NamedSchemaAsync(typeof(TBody), context, ct) } },
            };
        });

    /// <summary>
    /// A reference to the named schema of <paramref name="type"/>, made (with the records it holds, each named too) when
    /// the document has none yet. The framework would inline them all, so a client would get one copy per use.
    /// </summary>
    private static async Task<IOpenApiSchema> NamedSchemaAsync(Type type, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var document = context.Document!;
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        var name = type.Name;
        if (!document.Components.Schemas.ContainsKey(name))
        {
            var schema = await context.GetOrCreateSchemaAsync(type, null, ct);
            document.Components.Schemas[name] = schema;
            if (schema is OpenApiSchema { Properties: { } properties })
            {
                foreach (var property in type.GetProperties())
                {
                    var key = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
                    if (!properties.TryGetValue(key, out var propertySchema))
                    {
                        continue;
                    }
                    var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                    if (IsRecord(propertyType))
                    {
                        properties[key] = await NamedSchemaAsync(propertyType, context, ct);
                    }
                    else if (ItemType(propertyType) is { } item && IsRecord(item) && propertySchema is OpenApiSchema list)
                    {
                        list.Items = await NamedSchemaAsync(item, context, ct);
                    }
                }
            }
        }
        return new OpenApiSchemaReference(name, document);
    }

    private static bool IsRecord(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(type) &&
        type.Namespace?.StartsWith("BulkCampaigns", StringComparison.Ordinal) == true;

    private static Type? ItemType(Type type) =>
        type.IsGenericType && typeof(System.Collections.IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments() is [var item] ? item : null;

    /// <summary>Describes a CSV file sent as the whole body (<c>text/csv</c>, binary).</summary>
    public static RouteHandlerBuilder DocumentsCsvBody(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "The CSV file as the whole body.",
                Content = new Dictionary<string, OpenApiMediaType> { ["text/csv"] = new() { Schema = Text("binary") } },
            };
            return Task.CompletedTask;
        });

    /// <summary>
    /// Describes a CSV upload: the file as the body (<c>text/csv</c>, binary) or as the part named <c>file</c> of a
    /// <c>multipart/form-data</c> body.
    /// </summary>
    public static RouteHandlerBuilder DocumentsCsvUpload(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "The CSV file: as the whole body (text/csv), or as the part named file of a multipart/form-data body.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["text/csv"] = new() { Schema = Text("binary") },
                    ["multipart/form-data"] = new()
                    {
                        Schema = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Required = new HashSet<string> { "file" },
                            Properties = new Dictionary<string, IOpenApiSchema> { ["file"] = Text("binary") },
                        },
                        Encoding = new Dictionary<string, OpenApiEncoding> { ["file"] = new() { ContentType = "text/csv" } },
                    },
                },
            };
            return Task.CompletedTask;
        });
}

/// <summary>
/// Shows a property that is read as raw JSON (so a wrong type is reported by its field, with the other problems) as
/// the integer it must be.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DocumentedAsIntegerAttribute(int minimum, int maximum, string description) : Attribute
{
    public int Minimum { get; } = minimum;
    public int Maximum { get; } = maximum;
    public string Description { get; } = description;
}

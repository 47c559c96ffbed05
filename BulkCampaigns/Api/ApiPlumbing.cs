using System.Text.Json;
using System.Text.Json.Serialization;
using BulkCampaigns.Auth;
using BulkCampaigns.Data;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Identity;
using Microsoft.OpenApi;
using Microsoft.AspNetCore.Diagnostics;

namespace BulkCampaigns.Api;

public static class ApiPlumbing
{
    public static readonly JsonNamingPolicy EnumNaming = JsonNamingPolicy.SnakeCaseUpper;

    public static IServiceCollection AddApiPlumbing(this IServiceCollection services, IConfiguration configuration)
    {
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(EnumNaming));
        });
        services.AddApiRateLimits(configuration);
        services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "BulkCampaigns API";
            doc.Info.Description = "Bulk messaging shaped like Twilio's Bulk Messaging API. Authenticate with HTTP Basic apiKeySid:apiKeySecret.";
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
            return Task.CompletedTask;
        }));
        return services;
    }

    public static IEndpointRouteBuilder MapApiPlumbing(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi().AllowAnonymous();
        return app;
    }

    /// <summary>
    /// The <c>/v1</c> group every API endpoint hangs from: it needs an API key (or, for the app's own
    /// pages, the sign-in cookie plus a header no cross-site form can send), and an unknown path in it is a 404.
    /// </summary>
    public static RouteGroupBuilder MapApiV1(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").RequireAuthorization(AuthSetup.ApiPolicy).RequireRateLimiting(RateLimits.ApiPolicy);
        // Every endpoint can answer these, in the error format: the OpenAPI document says so once for all.
        foreach (var status in new[] { 400, 401, 403, 404, 429 })
        {
            v1.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ApiError), ["application/json"]));
        }
        v1.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var viaCookie = http.User.Identity?.AuthenticationType == IdentityConstants.ApplicationScheme;
            if (viaCookie && !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method) &&
                http.Request.Headers[CsrfHeader] != CsrfHeaderValue)
            {
                return new ApiError(403, ApiError.Codes.Forbidden, $"Requests signed in with the browser cookie must send the header {CsrfHeader}: {CsrfHeaderValue}.").ToResult();
            }
            return await next(context);
        });
        v1.Map("{**rest}", (HttpRequest request) => ApiError.NotFound($"No resource at {request.Path}."))
            .ExcludeFromDescription();
        return v1;
    }

    /// <summary>
    /// Describes a request body in the OpenAPI document for an endpoint that reads the body itself (to name every
    /// problem by path, or to stream a CSV). Unlike <c>Accepts</c>, it does not make routing refuse other content types,
    /// so the endpoint still answers them with its own clear error.
    /// </summary>
    public static RouteHandlerBuilder DocumentsBody<TBody>(this RouteHandlerBuilder builder, params string[] contentTypes) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, ct) =>
        {
            IOpenApiSchema schema = typeof(TBody) == typeof(string)
                ? new OpenApiSchema { Type = JsonSchemaType.String }
                : await context.GetOrCreateSchemaAsync(typeof(TBody), null, ct);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = contentTypes.ToDictionary(c => c, _ => new OpenApiMediaType { Schema = schema }),
            };
        });

    public const string CsrfHeader = "X-Requested-With";
    public const string CsrfHeaderValue = "BulkCampaigns";

    /// <summary>
    /// Makes every <c>/v1</c> failure answer in the API's error format: unhandled exceptions, bad request
    /// bodies and empty 4xx answers (unknown route, wrong method) alike. The friendly 404 page is for people:
    /// it is switched off here for the API and the hub (placed after the status-code-pages middleware).
    /// </summary>
    public static IApplicationBuilder UseApiErrors(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.Path.StartsWithSegments("/hubs"))
        {
            context.Features.Get<IStatusCodePagesFeature>()?.Enabled = false;
        }
        if (!context.Request.Path.StartsWithSegments("/v1"))
        {
            await next(context);
            return;
        }
        context.Features.Get<IStatusCodePagesFeature>()?.Enabled = false;
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            var status = ex.StatusCode;
            var code = status == StatusCodes.Status413PayloadTooLarge ? ApiError.Codes.PayloadTooLarge : ApiError.Codes.InvalidParameter;
            await WriteAsync(context, new ApiError(status, code, ex.Message));
            return;
        }
        catch (Exception ex) when (!context.Response.HasStarted && ex is not OperationCanceledException)
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("BulkCampaigns.Api")
                .LogError(ex, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
            await WriteAsync(context, new ApiError(500, ApiError.Codes.Internal, "Something went wrong on our side; the request may be retried. If it keeps failing, contact the operator."));
            return;
        }
        if (!context.Response.HasStarted && context.Response.ContentLength is null && context.Response.ContentType is null)
        {
            var error = context.Response.StatusCode switch
            {
                404 => new ApiError(404, ApiError.Codes.NotFound, $"No resource at {context.Request.Path}."),
                405 => new ApiError(405, ApiError.Codes.InvalidParameter, $"{context.Request.Method} is not allowed on {context.Request.Path}."),
                415 => new ApiError(415, ApiError.Codes.InvalidParameter, "Send the body as application/json."),
                _ => null,
            };
            if (error is not null)
            {
                await WriteAsync(context, error);
            }
        }
    });

    private static Task WriteAsync(HttpContext context, ApiError error)
    {
        context.Response.Clear();
        context.Response.StatusCode = error.Status;
        return context.Response.WriteAsJsonAsync(error);
    }
}

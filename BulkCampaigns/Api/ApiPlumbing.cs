using System.Text.Json;
using System.Text.Json.Serialization;
using BulkCampaigns.Auth;
using BulkCampaigns.Data;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.AspNetCore.Identity;
using Microsoft.OpenApi;
using Microsoft.AspNetCore.Diagnostics;
using Scalar.AspNetCore;

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
            // {"name": "a", "name": "b"} is ambiguous: which one did the caller mean? Refuse it rather than guess.
            o.SerializerOptions.AllowDuplicateProperties = false;
            // A number is a JSON number: the web defaults also read "5" and make the OpenAPI document type every
            // integer as ["integer", "string"], which generated clients can't use.
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        // A body that can't be bound (bad JSON, a wrong type, a wrong content type) throws instead of answering an
        // empty 400 (the default outside Development), so UseApiErrors answers it in the error format, in one place.
        services.PostConfigure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddApiRateLimits(configuration);
        services.AddOpenApi(OpenApiDocument.Configure);
        return services;
    }

    public static IEndpointRouteBuilder MapApiPlumbing(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi().AllowAnonymous();
        // Public, like the document it shows: an integrator may hold only an API key and no sign-in, and the page
        // reveals nothing the anonymous /openapi/v1.json doesn't. Its script is served from the package, not a CDN.
        app.MapScalarApiReference("/docs/api", o => o
            .WithTitle("BulkCampaigns API reference")
            .WithOpenApiRoutePattern("/openapi/{documentName}.json")
            .AddDocument("v1")
            // A reference of this API only: no AI chat, MCP, hosted-client or deploy buttons, and nothing sent to Scalar.
            .DisableAgent()
            .DisableMcp()
            .DisableTelemetry()
            .HideClientButton()
            .HideDeveloperTools())
            .AllowAnonymous();
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
        // The catch-all keeps unknown paths behind the key and the rate limit. It also outranks the 405 and 415 that
        // routing would give a known path asked with the wrong method or content type, so it tells those apart itself.
        v1.Map("{**rest}", (HttpContext http, EndpointDataSource endpoints) => Unmatched(http, endpoints))
            .ExcludeFromDescription();
        return v1;
    }

    private static IResult Unmatched(HttpContext http, EndpointDataSource endpoints)
    {
        var request = http.Request;
        var matchers = endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && raw.StartsWith("/v1/", StringComparison.Ordinal) && !raw.Contains("**", StringComparison.Ordinal))
            .Select(e => (Endpoint: e, Matcher: new TemplateMatcher(TemplateParser.Parse(e.RoutePattern.RawText!), new RouteValueDictionary())));
        var methodsHere = matchers.Where(m => m.Matcher.TryMatch(request.Path, new RouteValueDictionary()))
            .SelectMany(m => m.Endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (methodsHere.Contains(request.Method))
        {
            // The path and method exist: routing turned the request away for its content type.
            return new ApiError(StatusCodes.Status415UnsupportedMediaType, ApiError.Codes.InvalidParameter, "Send the body as application/json.").ToResult();
        }
        if (methodsHere.Count > 0)
        {
            http.Response.Headers.Allow = string.Join(", ", methodsHere.Order(StringComparer.Ordinal));
            return new ApiError(StatusCodes.Status405MethodNotAllowed, ApiError.Codes.InvalidParameter,
                $"{request.Method} is not allowed on {request.Path}; use {string.Join(" or ", methodsHere.Order(StringComparer.Ordinal))}.").ToResult();
        }
        return ApiError.NotFound($"No resource at {request.Path}.");
    }

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
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
            {
                // Outside the API a request that can't be bound keeps the framework's plain answer: its status code.
                context.Response.StatusCode = ex.StatusCode;
            }
            return;
        }
        context.Features.Get<IStatusCodePagesFeature>()?.Enabled = false;
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            await WriteAsync(context, BadRequestError(ex));
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

    /// <summary>A request the framework could not read (body binding, JSON, size, content type), in plain words.</summary>
    public static ApiError BadRequestError(BadHttpRequestException ex)
    {
        var status = ex.StatusCode;
        if (status == StatusCodes.Status413PayloadTooLarge)
        {
            return new ApiError(status, ApiError.Codes.PayloadTooLarge, "The request body is too large.");
        }
        if (status == StatusCodes.Status415UnsupportedMediaType)
        {
            return new ApiError(status, ApiError.Codes.InvalidParameter, "Send the body as application/json.");
        }
        if (ex.InnerException is JsonException json)
        {
            var (field, message) = DescribeJsonError(json);
            return new ApiError(StatusCodes.Status400BadRequest, ApiError.Codes.InvalidParameter, message,
                field is null ? null : [new ApiFieldError(field, message)]);
        }
        if (ex.Message.Contains("no body was provided", StringComparison.OrdinalIgnoreCase))
        {
            return new ApiError(StatusCodes.Status400BadRequest, ApiError.Codes.InvalidParameter, "The request needs a JSON body.");
        }
        return new ApiError(status, ApiError.Codes.InvalidParameter, ex.Message);
    }

    /// <summary>
    /// What is wrong with a JSON body and where, without .NET type names: the field is the JSON path of the
    /// value (<c>content.media[2]</c>), or null when the problem is the body as a whole.
    /// </summary>
    public static (string? Field, string Message) DescribeJsonError(JsonException ex)
    {
        var field = FieldOf(ex.Path);
        var at = ex.LineNumber is { } line ? $" (line {line + 1}, byte {(ex.BytePositionInLine ?? 0) + 1})" : "";
        var text = ex.Message;
        string message;
        var inner = ex.InnerException?.Message ?? "";
        if (ex.InnerException is System.Text.DecoderFallbackException || $"{text} {inner}".Contains("UTF-8", StringComparison.OrdinalIgnoreCase) ||
            $"{text} {inner}".Contains("transcode", StringComparison.OrdinalIgnoreCase))
        {
            message = $"The body is not valid UTF-8 text{at}.";
        }
        else if (text.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            message = $"A key appears twice in the same object{at}; give each key once.";
        }
        else if (text.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase))
        {
            message = $"The body is nested too deeply{at}.";
            field = null;
        }
        else if (text.StartsWith("The JSON value could not be converted", StringComparison.Ordinal) || ex.InnerException is InvalidOperationException)
        {
            message = field is null or "" ? $"The body has the wrong shape{at}; see the API reference." : $"{field} has a value of the wrong type{at}.";
        }
        else
        {
            message = $"The body is not valid JSON{at}.";
        }
        return (string.IsNullOrEmpty(field) ? null : field, message);
    }

    /// <summary><c>$.content.media[2]</c> → <c>content.media[2]</c>; <c>$['first name']</c> → <c>first name</c>.</summary>
    private static string? FieldOf(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return null;
        }
        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return System.Text.RegularExpressions.Regex.Replace(field, @"\['(.*?)'\]", m => (m.Index == 0 ? "" : ".") + m.Groups[1].Value,
            System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(100));
    }

    private static Task WriteAsync(HttpContext context, ApiError error)
    {
        context.Response.Clear();
        context.Response.StatusCode = error.Status;
        return context.Response.WriteAsJsonAsync(error);
    }
}

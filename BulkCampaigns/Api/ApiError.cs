using System.Text.Json.Serialization;

namespace BulkCampaigns.Api;

public sealed record ApiFieldError(string Field, string Message);

/// <summary>The error body of every <c>/v1</c> answer (docs/api.md: Conventions).</summary>
public sealed record ApiError(
    int Status,
    int Code,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ApiFieldError>? Errors = null)
{
    /// <summary>Most field errors listed in one answer.</summary>
    public const int MaxFieldErrors = 100;

    public static class Codes
    {
        public const int InvalidParameter = 20001;
        public const int Unauthorized = 20003;
        public const int Forbidden = 20403;
        public const int NotFound = 20404;
        public const int Conflict = 20409;
        public const int TooManyRecipients = 20010;
        public const int PayloadTooLarge = 20413;
        public const int TooManyRequests = 20429;
        public const int Internal = 20500;
    }

    public IResult ToResult() => Results.Json(this, statusCode: Status);

    public static IResult BadRequest(string message, IEnumerable<ApiFieldError>? errors = null, int code = Codes.InvalidParameter) =>
        new ApiError(StatusCodes.Status400BadRequest, code, message, errors?.Take(MaxFieldErrors).ToList()).ToResult();

    public static IResult NotFound(string message) =>
        new ApiError(StatusCodes.Status404NotFound, Codes.NotFound, message).ToResult();

    public static IResult Conflict(string message) =>
        new ApiError(StatusCodes.Status409Conflict, Codes.Conflict, message).ToResult();
}

/// <summary>Collects every problem of a request, so one answer can list them all.</summary>
public sealed class ApiValidation
{
    private readonly List<ApiFieldError> _errors = [];

    public bool IsValid => _errors.Count == 0;
    public IReadOnlyList<ApiFieldError> Errors => _errors;

    public void Add(string field, string message)
    {
        if (_errors.Count < ApiError.MaxFieldErrors)
        {
            _errors.Add(new ApiFieldError(field, message));
        }
    }

    public IResult ToResult(string message = "The request has problems; each is listed in errors.") =>
        ApiError.BadRequest(message, _errors);
}

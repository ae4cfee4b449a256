using System.Text.Json;
using System.Text.Json.Serialization;

namespace Immune.Fleet.AspNetCore;

/// <summary>The fleet's health, as <c>GET /api/immune/fleet/health</c> answers it.</summary>
internal sealed record HealthResponse(
    string Status,
    int ActiveIssues,
    int CriticalIssues,
    IReadOnlyDictionary<string, int> CountsBySeverity,
    IReadOnlyDictionary<string, int> CountsByType,
    double WindowMinutes,
    DateTimeOffset GeneratedAt,
    int OpenIncidents,
    int OpenCriticalIncidents,
    long IncidentsEvicted,
    int SourceCount,
    IReadOnlyList<SourceResponse> Sources,
    int SourcesOmitted,
    bool Live,
    DateTimeOffset? LastReadAt,
    IReadOnlyList<FeedResponse> Feeds,
    PagerResponse? Pager);

/// <summary>One source of <see cref="HealthResponse"/>.</summary>
internal sealed record SourceResponse(string Source, string Status, int ActiveIssues, int CriticalIssues, int Instances, int OpenIncidents, int OpenCriticalIncidents);

/// <summary>One feed of <see cref="HealthResponse"/>: when it last read its broker, and its trouble.</summary>
internal sealed record FeedResponse(string Name, DateTimeOffset? LastReadAt, DateTimeOffset? FailingSince, string? LastError, long Read, long? Lag, long? Pending, long Lost);

/// <summary>Paging, in <see cref="HealthResponse"/>.</summary>
internal sealed record PagerResponse(long Sent, long Refused, long Failed, DateTimeOffset? FailingSince, string? LastProblem);

/// <summary>One open incident, as <c>GET /api/immune/fleet/incidents</c> lists it.</summary>
internal sealed record IncidentResponse(
    string Source,
    string? InstanceId,
    long EventId,
    string Severity,
    string Type,
    string Message,
    string? AgentId,
    string? Module,
    DateTimeOffset RecordedAt,
    DateTimeOffset ChangedAt,
    DateTimeOffset LastSeenAt,
    long Occurrences);

/// <summary>One minute of <c>GET /api/immune/fleet/rate</c>: the events recorded in it, by their severity at publication.</summary>
internal sealed record MinuteResponse(DateTimeOffset Start, int Info, int Warning, int Critical);

/// <summary>The JSON of the fleet endpoints: snake_case names, source-generated (trimming and NativeAOT safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(IReadOnlyList<IncidentResponse>))]
[JsonSerializable(typeof(IReadOnlyList<MinuteResponse>))]
internal sealed partial class FleetJsonContext : JsonSerializerContext;

/// <summary>The wire spelling of the enums, as in the envelopes: <c>CRITICAL</c>, <c>ERROR_SPIKE</c>, <c>DEGRADED</c>. One table each.</summary>
internal static class WireNames
{
    private static readonly string[] Severities = Names<ImmuneSeverity>();
    private static readonly string[] Types = Names<ImmuneEventType>();
    private static readonly string[] Statuses = Names<ImmuneHealthStatus>();

    public static string Of(ImmuneSeverity value) => Severities[(int)value];

    public static string Of(ImmuneEventType value) => Types[(int)value];

    public static string Of(ImmuneHealthStatus value) => Statuses[(int)value];

    private static string[] Names<TEnum>()
        where TEnum : struct, Enum
        => [.. Enum.GetValues<TEnum>().Select(v => JsonNamingPolicy.SnakeCaseUpper.ConvertName(v.ToString()))];
}

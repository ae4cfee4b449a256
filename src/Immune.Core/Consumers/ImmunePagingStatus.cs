namespace Immune;

/// <summary>How paging is doing: what was sent, refused and failed since the start, and whether the pager is failing now.</summary>
public sealed record ImmunePagingStatus
{
    /// <summary>Gets how many actions (pages and resolutions) were sent.</summary>
    public long Sent { get; init; }

    /// <summary>Gets how many actions the pager refused for good.</summary>
    public long Refused { get; init; }

    /// <summary>Gets how many calls to the pager failed (their actions stayed pending and are sent when it answers).</summary>
    public long Failed { get; init; }

    /// <summary>Gets when the current run of failed calls began; null while the last call succeeded.</summary>
    public DateTimeOffset? FailingSince { get; init; }

    /// <summary>Gets the last failure or refusal, as text; null before any.</summary>
    public string? LastProblem { get; init; }
}

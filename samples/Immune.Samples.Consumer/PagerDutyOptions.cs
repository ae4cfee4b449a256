namespace Immune.Samples.Consumer;

/// <summary>Where <see cref="PagerDutyPager"/> sends, bound from <c>Immune:Pager</c>; the routing key is a secret and never printed.</summary>
public sealed class PagerDutyOptions
{
    /// <summary>Gets or sets the Events API v2 endpoint.</summary>
    public Uri Url { get; set; } = new("https://events.pagerduty.com/v2/enqueue");

    /// <summary>Gets or sets the integration's routing key (<c>Immune__Pager__RoutingKey</c>); the pager is off without one.</summary>
    public string RoutingKey { get; set; } = string.Empty;

    /// <summary>Gets or sets how many times one action is tried when the service answers 429 or 5xx, or cannot be reached.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Gets or sets the wait before the second attempt; it doubles up to <see cref="MaxRetryDelay"/>, unless the answer says <c>Retry-After</c>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest wait between attempts.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public override string ToString() => $"PagerDutyOptions {{ Url = {Url}, RoutingKey = (hidden), MaxAttempts = {MaxAttempts} }}";
}

namespace Immune.Samples.Redis;

/// <summary>Where <see cref="RedisStreamEventStream"/> writes.</summary>
public sealed class RedisStreamOptions
{
    /// <summary>Gets or sets the stream key. The default is <c>immune:events</c>.</summary>
    public string StreamKey { get; set; } = "immune:events";

    /// <summary>Gets or sets the approximate maximum length of the stream (<c>XADD … MAXLEN ~ n</c>). The default is 10,000.</summary>
    public int MaxLength { get; set; } = 10_000;
}

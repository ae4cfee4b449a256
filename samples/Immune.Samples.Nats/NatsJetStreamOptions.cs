namespace Immune.Samples.Nats;

/// <summary>The JetStream stream <see cref="NatsJetStreamEventStream"/> writes to, and the settings it creates it with.</summary>
public sealed class NatsJetStreamOptions
{
    /// <summary>Gets or sets the stream's name. The default is <c>IMMUNE</c>.</summary>
    public string StreamName { get; set; } = "IMMUNE";

    /// <summary>
    /// Gets or sets the subject prefix: each envelope goes to <c>&lt;prefix&gt;.&lt;type&gt;</c>, e.g.
    /// <c>immune.events.immune.critical_event</c>, and the stream captures <c>&lt;prefix&gt;.&gt;</c>. The default is <c>immune.events</c>.
    /// </summary>
    public string SubjectPrefix { get; set; } = "immune.events";

    /// <summary>
    /// Gets or sets how long the server remembers a message id (<c>Nats-Msg-Id</c>, the envelope's id) to drop a second
    /// copy: a retried batch or a publish whose acknowledgement was lost. Keep it longer than the producers'
    /// <c>DeliveryTimeout</c> (2 minutes by default). The default is 5 minutes.
    /// </summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how long envelopes are kept. The default is 7 days.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Gets or sets how many envelopes are kept at most (the oldest go first). The default is 1,000,000.</summary>
    public long MaxMessages { get; set; } = 1_000_000;

    /// <summary>Gets the subject of one envelope type.</summary>
    public string SubjectOf(string envelopeType) => $"{SubjectPrefix}.{envelopeType}";
}

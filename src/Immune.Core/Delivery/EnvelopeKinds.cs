namespace Immune.Delivery;

/// <summary>The one table between envelope kinds and their wire types; it throws on anything it does not know.</summary>
internal static class EnvelopeKinds
{
    private static readonly string[] Types = [ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent, ImmuneEventTypes.SeverityChanged, ImmuneEventTypes.EventRepeated];

    public static string TypeOf(EnvelopeKind kind)
        => (uint)kind < (uint)Types.Length ? Types[(int)kind] : throw new ArgumentOutOfRangeException(nameof(kind), kind, "An envelope kind without a wire type.");

    public static EnvelopeKind Of(string type)
    {
        int index = Array.IndexOf(Types, type);
        return index >= 0 ? (EnvelopeKind)index : throw new ArgumentOutOfRangeException(nameof(type), type, "A wire type of no envelope kind.");
    }

    /// <summary>
    /// Gets whether <paramref name="next"/> is the <c>immune.critical_event</c> that one service wrote right after
    /// <paramref name="envelope"/>, for the same event: the two envelopes of one CRITICAL publish or escalation.
    /// </summary>
    public static bool IsPair(EventEnvelope envelope, EventEnvelope next)
        => next.Type == ImmuneEventTypes.CriticalEvent
            && envelope.Type is ImmuneEventTypes.EventPublished or ImmuneEventTypes.SeverityChanged
            && envelope.Payload.EventId == next.Payload.EventId
            && envelope.Source == next.Source
            && envelope.Meta.InstanceId == next.Meta.InstanceId;
}

namespace Immune.Delivery;

/// <summary>The kind of envelope a <see cref="PendingEnvelope"/> becomes.</summary>
internal enum EnvelopeKind : byte
{
    EventPublished,
    CriticalEvent,
    SeverityChanged,
    EventRepeated,
}

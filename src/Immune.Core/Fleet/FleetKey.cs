namespace Immune.Fleet;

/// <summary>
/// An event's fleet identity: the same event in every envelope about it, and no other event. An empty instance id is no
/// instance id (<see langword="null"/>): one rule for the incidents, the instances counted and every order.
/// </summary>
internal readonly record struct FleetKey(string Source, string? InstanceId, long EventId)
{
    /// <summary>Gets the key of an envelope's event, an empty instance id taken as none.</summary>
    public static FleetKey Of(EventEnvelope envelope)
        => new(envelope.Source, string.IsNullOrEmpty(envelope.Meta.InstanceId) ? null : envelope.Meta.InstanceId, envelope.Payload.EventId);

    /// <summary>
    /// Orders keys by source, instance id (none first) and event id, ordinally: how the view breaks every tie of equal
    /// times, so that what it keeps, evicts and lists does not depend on the order envelopes arrive in.
    /// </summary>
    public static int Compare(in FleetKey x, in FleetKey y)
    {
        int c = string.CompareOrdinal(x.Source, y.Source);
        if (c == 0) c = string.CompareOrdinal(x.InstanceId, y.InstanceId);
        return c != 0 ? c : x.EventId.CompareTo(y.EventId);
    }
}

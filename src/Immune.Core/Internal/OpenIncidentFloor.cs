namespace Immune.Internal;

/// <summary>
/// Where in a stream a fleet feed first read each event, so that it can tell the producers' trim the first position its
/// view's open incidents need (the first envelope of each: a rebuilt view needs the publication). Events whose incident
/// is closed are let go of at each <see cref="Lowest"/>, so it holds at most the events read since the last call and
/// the open incidents.
/// </summary>
/// <remarks>
/// An event escalated after it was let go of is kept from its escalation on: its publication, which a rebuild needs,
/// stays only as long as the transport's minimum retention.
/// </remarks>
internal sealed class OpenIncidentFloor<TPosition>
    where TPosition : struct, IComparable<TPosition>
{
    private readonly Dictionary<(string Source, string? InstanceId, long EventId), TPosition> _firstRead = [];

    /// <summary>Notes that <paramref name="envelope"/> was read at <paramref name="position"/> (the first read of its event counts).</summary>
    public void Read(EventEnvelope envelope, TPosition position)
        => _firstRead.TryAdd((envelope.Source, string.IsNullOrEmpty(envelope.Meta.InstanceId) ? null : envelope.Meta.InstanceId, envelope.Payload.EventId), position);

    /// <summary>Gets the first position an open incident of <paramref name="view"/> needs, or null when none is open; lets go of the rest.</summary>
    public TPosition? Lowest(ImmuneFleetView view)
    {
        TPosition? lowest = null;
        foreach (((string source, string? instance, long eventId) key, TPosition position) in _firstRead)
        {
            if (view.IsOpenIncident(key.source, key.instance, key.eventId))
            {
                lowest = lowest is { } l && l.CompareTo(position) <= 0 ? l : position;
            }
            else
            {
                _firstRead.Remove(key);
            }
        }

        return lowest;
    }
}

/// <summary>The rule the transports' floors share.</summary>
internal static class OpenIncidentFloor
{
    /// <summary>
    /// Gets how long a feed's floor holds once the feed stops writing it: the transport's minimum retention, and at least
    /// six trims, so that a feed that writes every trim interval never lets its floor lapse between two writes.
    /// </summary>
    public static TimeSpan KeptFor(TimeSpan minRetention, TimeSpan trimInterval)
        => TimeSpan.FromTicks(Math.Max(minRetention.Ticks, 6 * trimInterval.Ticks));
}

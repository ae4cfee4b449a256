namespace Immune.Fleet;

/// <summary>
/// The recorded events the view let go of lately (left the counted events with no incident open), as they were: an
/// envelope about one of them that arrives late (an escalation, a resolution) takes it up again as it was, so what the
/// view shows does not depend on whether that envelope came before or after the event was let go of. Bounded: the
/// oldest are forgotten first. Not thread-safe: the view guards it with its lock.
/// </summary>
internal sealed class ForgottenEvents(int capacity)
{
    private readonly Dictionary<FleetKey, FleetEvent.Memory> _memories = [];
    private readonly Queue<FleetKey> _order = new();

    public int Count => _memories.Count;

    /// <summary>Remembers a recorded event let go of.</summary>
    public void Add(in FleetKey key, in FleetEvent.Memory memory)
    {
        if (_memories.TryAdd(key, memory))
        {
            _order.Enqueue(key);
        }
        else
        {
            _memories[key] = memory;
        }

        while (_order.Count > capacity && _order.TryDequeue(out FleetKey oldest))
        {
            _memories.Remove(oldest);
        }
    }

    /// <summary>Takes back what was remembered of an event; false when nothing was (its key stays queued until it comes round).</summary>
    public bool TryTake(in FleetKey key, out FleetEvent.Memory memory) => _memories.Remove(key, out memory);
}

namespace Immune.Fleet;

/// <summary>
/// When each instance (source, instance id) was last heard of: the latest time any envelope of it carried (not when it
/// arrived), so a watcher can see an incident whose instance fell silent. An instance is remembered while the view holds
/// any event of it, so the memory is bounded by the view's. Not thread-safe: the view guards it with its lock.
/// </summary>
internal sealed class InstanceClocks
{
    private readonly Dictionary<(string Source, string Instance), Clock> _clocks = [];

    public int Count => _clocks.Count;

    /// <summary>Notes that the view holds one more event of the instance of <paramref name="key"/>.</summary>
    public void Hold(in FleetKey key)
    {
        if (!_clocks.TryGetValue(Of(key), out Clock? clock))
        {
            _clocks.Add(Of(key), clock = new Clock());
        }

        clock.Events++;
    }

    /// <summary>Notes that the view let go of an event of the instance of <paramref name="key"/>; forgets the instance with its last.</summary>
    public void Release(in FleetKey key)
    {
        if (_clocks.TryGetValue(Of(key), out Clock? clock) && --clock.Events == 0)
        {
            _clocks.Remove(Of(key));
        }
    }

    /// <summary>Notes an envelope of the instance carrying time <paramref name="at"/>.</summary>
    public void Heard(in FleetKey key, DateTimeOffset at)
    {
        if (_clocks.TryGetValue(Of(key), out Clock? clock) && at.UtcTicks > clock.Ticks)
        {
            clock.Ticks = at.UtcTicks;
        }
    }

    /// <summary>Gets when the instance of <paramref name="key"/> was last heard of, in UTC.</summary>
    public DateTimeOffset LastSeen(in FleetKey key)
        => _clocks.TryGetValue(Of(key), out Clock? clock) && clock.Ticks > 0 ? new DateTimeOffset(clock.Ticks, TimeSpan.Zero) : DateTimeOffset.MinValue;

    private static (string, string) Of(in FleetKey key) => (key.Source, key.InstanceId ?? string.Empty);

    private sealed class Clock
    {
        public int Events;
        public long Ticks;
    }
}

namespace Immune.Storage;

/// <summary>
/// The retained events: a ring of the newest <c>capacity</c> events in id order, which is also time order
/// (<see cref="ImmuneEvent.CreatedAt"/> never decreases). Ids are consecutive, so an id maps to its slot directly; a
/// window maps to a range of slots by binary search on time; per-severity and per-type Fenwick trees count a range in
/// O(log n) and follow severity changes. With folding on, a slot also keeps its repeats (a Fenwick tree of them, so a
/// window's occurrences are O(log n) too) and the time of the latest; a read returns the event with them applied.
/// Not thread-safe: the service guards it with its lock.
/// </summary>
internal sealed class EventStore
{
    private const int SeverityCount = 3;
    private const int TypeCount = 3;
    private static readonly long MaxUnixMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private readonly ImmuneEvent?[] _ring;
    private readonly Fenwick<int>[] _bySeverity = new Fenwick<int>[SeverityCount];
    private readonly Fenwick<int>[] _byType = new Fenwick<int>[TypeCount];
    private readonly Fenwick<long>? _repeats;  // folded publishes per slot; null with folding off
    private readonly long[]? _lastSeenTicks;   // the latest folded publish per slot (UTC ticks); 0 when none
    private readonly long[] _stamps;           // the latest time written about each slot's event, in wire milliseconds
    private long _firstId = 1; // the oldest retained id (when Count > 0)
    private long _lastId;      // the newest id ever recorded; 0 before the first

    public EventStore(int capacity, bool tracksRepeats = false)
    {
        _ring = new ImmuneEvent?[capacity];
        _stamps = new long[capacity];
        for (int i = 0; i < SeverityCount; i++) _bySeverity[i] = new Fenwick<int>(capacity);
        for (int i = 0; i < TypeCount; i++) _byType[i] = new Fenwick<int>(capacity);
        if (tracksRepeats)
        {
            _repeats = new Fenwick<long>(capacity);
            _lastSeenTicks = new long[capacity];
        }
    }

    public int Count => (int)(_lastId - _firstId + 1);

    public long LastId => _lastId;

    /// <summary>Gets the oldest retained id; <see cref="LastId"/> + 1 when empty.</summary>
    public long FirstId => _firstId;

    /// <summary>Gets the newest event's time, or <see cref="DateTimeOffset.MinValue"/> when empty.</summary>
    public DateTimeOffset LastCreatedAt => Count == 0 ? DateTimeOffset.MinValue : _ring[SlotOf(_lastId)]!.CreatedAt;

    /// <summary>Adds the event with id <see cref="LastId"/> + 1, evicting the oldest when full.</summary>
    public void Add(ImmuneEvent newEvent)
    {
        int slot = SlotOf(newEvent.Id);
        if (Count == _ring.Length)
        {
            Tally(_ring[slot]!, -1);
            if (_lastSeenTicks is not null && _lastSeenTicks[slot] != 0)
            {
                _repeats!.Add(slot, -_repeats.Count(slot, slot + 1));
                _lastSeenTicks[slot] = 0;
            }

            _firstId++;
        }

        _ring[slot] = newEvent;
        _stamps[slot] = newEvent.CreatedAt.ToUnixTimeMilliseconds();
        _lastId = newEvent.Id;
        Tally(newEvent, +1);
    }

    /// <summary>
    /// Gets the time to write on the next envelope about a retained event (a severity change, a repeat report):
    /// <paramref name="now"/>, unless the wire (which keeps milliseconds) would not put it strictly after every time
    /// written about the event before; then the millisecond after the latest. A reader that lets the latest observation
    /// win (the fleet view) so sees one producer's envelopes in the order the producer made them, even when its clock
    /// stood still or stepped back.
    /// </summary>
    public DateTimeOffset NextStamp(long id, DateTimeOffset now)
    {
        int slot = SlotOf(id);
        long last = _stamps[slot];
        long milliseconds = now.ToUnixTimeMilliseconds();
        if (milliseconds > last)
        {
            _stamps[slot] = milliseconds;
            return now;
        }

        // The millisecond after the latest, unless the latest is the last one a DateTimeOffset holds: then it, again.
        long next = Math.Min(last + 1, MaxUnixMilliseconds);
        _stamps[slot] = next;
        return DateTimeOffset.FromUnixTimeMilliseconds(next);
    }

    public bool TryGet(long id, out ImmuneEvent found)
    {
        if (id < _firstId || id > _lastId)
        {
            found = null!;
            return false;
        }

        found = Get(id);
        return true;
    }

    /// <summary>Counts one more occurrence of a retained event, at <paramref name="at"/>. Only with repeats tracked.</summary>
    /// <remarks>The latest time never goes back, nor before the event's recording, whatever the clock does.</remarks>
    public void Repeat(long id, DateTimeOffset at)
    {
        int slot = SlotOf(id);
        _repeats!.Add(slot, 1);
        _lastSeenTicks![slot] = Math.Max(at.UtcTicks, Math.Max(_lastSeenTicks[slot], _ring[slot]!.CreatedAt.UtcTicks));
    }

    /// <summary>Replaces a retained event by a copy with another severity.</summary>
    public void Replace(ImmuneEvent updated)
    {
        int slot = SlotOf(updated.Id);
        ImmuneEvent previous = _ring[slot]!;
        _bySeverity[(int)previous.Severity].Add(slot, -1);
        _bySeverity[(int)updated.Severity].Add(slot, +1);
        _ring[slot] = updated;
    }

    /// <summary>Gets the id of the oldest retained event with <c>CreatedAt &gt;= from</c>; <see cref="LastId"/> + 1 when none.</summary>
    public long FirstIdAtOrAfter(DateTimeOffset from)
    {
        long low = _firstId, high = _lastId + 1;
        while (low < high)
        {
            long middle = low + ((high - low) / 2);
            if (_ring[SlotOf(middle)]!.CreatedAt >= from)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        return low;
    }

    /// <summary>Gets a retained event, with its occurrences when publishes were folded into it.</summary>
    public ImmuneEvent Get(long id)
    {
        int slot = SlotOf(id);
        ImmuneEvent stored = _ring[slot]!;
        return _lastSeenTicks is null || _lastSeenTicks[slot] == 0
            ? stored
            : stored with { Occurrences = 1 + _repeats!.Count(slot, slot + 1), LastSeenAt = new DateTimeOffset(_lastSeenTicks[slot], TimeSpan.Zero) };
    }

    public int CountBySeverity(ImmuneSeverity severity, long fromId) => CountRange(_bySeverity[(int)severity], fromId);

    public int CountByType(ImmuneEventType type, long fromId) => CountRange(_byType[(int)type], fromId);

    /// <summary>Counts the occurrences of ids <c>[fromId, LastId]</c>: one per event plus the publishes folded into them.</summary>
    public long CountOccurrences(long fromId)
        => Math.Max(0, _lastId - fromId + 1) + (_repeats is null ? 0 : CountRange(_repeats, fromId));

    /// <summary>Counts ids <c>[fromId, LastId]</c> in a tree, over at most two slot ranges of the ring.</summary>
    private T CountRange<T>(Fenwick<T> tree, long fromId)
        where T : struct, System.Numerics.INumber<T>
    {
        if (fromId > _lastId)
        {
            return T.Zero;
        }

        int from = SlotOf(fromId), to = SlotOf(_lastId);
        return from <= to
            ? tree.Count(from, to + 1)
            : tree.Count(from, _ring.Length) + tree.Count(0, to + 1);
    }

    private void Tally(ImmuneEvent item, int delta)
    {
        int slot = SlotOf(item.Id);
        _bySeverity[(int)item.Severity].Add(slot, delta);
        _byType[(int)item.Type].Add(slot, delta);
    }

    private int SlotOf(long id) => (int)((id - 1) % _ring.Length);
}

namespace Immune.Internal;

/// <summary>
/// The retained events: a ring of the newest <c>capacity</c> events in id order, which is also time order
/// (<see cref="ImmuneEvent.CreatedAt"/> never decreases). Ids are consecutive, so an id maps to its slot directly; a
/// window maps to a range of slots by binary search on time; per-severity and per-type Fenwick trees count a range in
/// O(log n) and follow severity changes. Not thread-safe: the service guards it with its lock.
/// </summary>
internal sealed class EventStore
{
    private const int SeverityCount = 3;
    private const int TypeCount = 3;

    private readonly ImmuneEvent?[] _ring;
    private readonly Fenwick[] _bySeverity = new Fenwick[SeverityCount];
    private readonly Fenwick[] _byType = new Fenwick[TypeCount];
    private long _firstId = 1; // the oldest retained id (when Count > 0)
    private long _lastId;      // the newest id ever recorded; 0 before the first

    public EventStore(int capacity)
    {
        _ring = new ImmuneEvent?[capacity];
        for (int i = 0; i < SeverityCount; i++) _bySeverity[i] = new Fenwick(capacity);
        for (int i = 0; i < TypeCount; i++) _byType[i] = new Fenwick(capacity);
    }

    public int Count => (int)(_lastId - _firstId + 1);

    public long LastId => _lastId;

    /// <summary>Gets the newest event's time, or <see cref="DateTimeOffset.MinValue"/> when empty.</summary>
    public DateTimeOffset LastCreatedAt => Count == 0 ? DateTimeOffset.MinValue : _ring[SlotOf(_lastId)]!.CreatedAt;

    /// <summary>Adds the event with id <see cref="LastId"/> + 1, evicting the oldest when full.</summary>
    public void Add(ImmuneEvent newEvent)
    {
        int slot = SlotOf(newEvent.Id);
        if (Count == _ring.Length)
        {
            Tally(_ring[slot]!, -1);
            _firstId++;
        }

        _ring[slot] = newEvent;
        _lastId = newEvent.Id;
        Tally(newEvent, +1);
    }

    public bool TryGet(long id, out ImmuneEvent found)
    {
        if (id < _firstId || id > _lastId)
        {
            found = null!;
            return false;
        }

        found = _ring[SlotOf(id)]!;
        return true;
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

    public ImmuneEvent Get(long id) => _ring[SlotOf(id)]!;

    public int CountBySeverity(ImmuneSeverity severity, long fromId) => CountRange(_bySeverity[(int)severity], fromId);

    public int CountByType(ImmuneEventType type, long fromId) => CountRange(_byType[(int)type], fromId);

    /// <summary>Counts ids <c>[fromId, LastId]</c> in a tree, over at most two slot ranges of the ring.</summary>
    private int CountRange(Fenwick tree, long fromId)
    {
        if (fromId > _lastId)
        {
            return 0;
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

namespace Immune.Fleet;

/// <summary>
/// The counted events whose severity is WARNING or CRITICAL, one ordered set per severity: newest recording first,
/// equal times by (source, instance id, event id). An incident list walks the CRITICAL set, then the WARNING one, from
/// the newest and stops at the window's start or at the maximum: its cost is O(log n + max), whatever the view holds.
/// Not thread-safe: the view guards it with its lock.
/// </summary>
internal sealed class OpenIncidents
{
    private readonly SortedSet<FleetEvent> _critical = new(NewestFirst.Instance);
    private readonly SortedSet<FleetEvent> _warning = new(NewestFirst.Instance);

    /// <summary>Gets how many incidents are open.</summary>
    public int Count => _critical.Count + _warning.Count;

    /// <summary>Starts tracking a counted event (at its current severity).</summary>
    public void Add(FleetEvent e) => SetOf(e.Severity)?.Add(e);

    /// <summary>Stops tracking a counted event (at its current severity).</summary>
    public void Remove(FleetEvent e) => SetOf(e.Severity)?.Remove(e);

    /// <summary>Follows a counted event whose severity was <paramref name="before"/> and is now its current one.</summary>
    public void Changed(FleetEvent e, ImmuneSeverity before)
    {
        SetOf(before)?.Remove(e);
        SetOf(e.Severity)?.Add(e);
    }

    /// <summary>Lists up to <paramref name="max"/> incidents recorded at or after <paramref name="fromTicks"/>, CRITICAL first.</summary>
    public List<ImmuneFleetIncident> List(long fromTicks, int max)
    {
        var list = new List<ImmuneFleetIncident>(Math.Min(max, Count));
        Take(_critical, fromTicks, max, list);
        Take(_warning, fromTicks, max, list);
        return list;
    }

    private static void Take(SortedSet<FleetEvent> set, long fromTicks, int max, List<ImmuneFleetIncident> into)
    {
        foreach (FleetEvent e in set)
        {
            if (into.Count == max || e.RecordedTicks < fromTicks)
            {
                return;
            }

            into.Add(e.ToIncident());
        }
    }

    private SortedSet<FleetEvent>? SetOf(ImmuneSeverity severity) => severity switch
    {
        ImmuneSeverity.Critical => _critical,
        ImmuneSeverity.Warning => _warning,
        _ => null,
    };

    /// <summary>Newest recording first; equal times by source, instance id (none first) and event id, ordinally.</summary>
    private sealed class NewestFirst : IComparer<FleetEvent>
    {
        public static readonly NewestFirst Instance = new();

        public int Compare(FleetEvent? x, FleetEvent? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            int c = y!.RecordedTicks.CompareTo(x!.RecordedTicks);
            return c != 0 ? c : FleetKey.Compare(x.Key, y.Key);
        }
    }
}

namespace Immune.Fleet;

/// <summary>
/// The open incidents: events whose current severity is WARNING or CRITICAL, whatever their age, apart from the retained
/// events the view counts, one ordered set per severity (newest recording first, equal times by fleet identity), bounded
/// by a capacity: past it the oldest WARNING leaves first, a CRITICAL only when no WARNING is left, each eviction counted;
/// a resolution is no eviction. It also ranks the sources by their open incidents (most CRITICAL first, then most
/// WARNING, then by name), so the worst of any number of sources are found without looking at the rest. Not
/// thread-safe: the view guards it with its lock.
/// </summary>
internal sealed class OpenIncidents(int capacity)
{
    private readonly SortedSet<FleetEvent> _critical = new(NewestFirst.Instance);
    private readonly SortedSet<FleetEvent> _warning = new(NewestFirst.Instance);
    private readonly Dictionary<string, SourceIncidents> _bySource = new(StringComparer.Ordinal);
    private readonly SortedSet<SourceIncidents> _ranked = new(WorstFirst.Instance);

    /// <summary>Gets how many incidents are open.</summary>
    public int Count => _critical.Count + _warning.Count;

    /// <summary>Gets how many open incidents are CRITICAL.</summary>
    public int Critical => _critical.Count;

    /// <summary>Gets how many incidents left to keep within the capacity.</summary>
    public long Evicted { get; private set; }

    /// <summary>
    /// Opens an incident for an event (at its current severity, WARNING or CRITICAL); returns the incident evicted to stay
    /// within the capacity — possibly the newcomer itself — or null.
    /// </summary>
    public FleetEvent? Add(FleetEvent e)
    {
        if (e.Open || SetOf(e.Severity) is not { } set)
        {
            return null;
        }

        set.Add(e);
        e.Open = true;
        Rank(e.Key.Source, e.Severity, +1);
        if (Count <= capacity)
        {
            return null;
        }

        FleetEvent oldest = _warning.Count > 0 ? _warning.Max! : _critical.Max!;
        Remove(oldest);
        Evicted++;
        return oldest;
    }

    /// <summary>Closes the incident of an event, at the severity it was opened or last changed with.</summary>
    public void Remove(FleetEvent e) => Remove(e, e.Severity);

    /// <summary>
    /// Follows an event whose severity was <paramref name="before"/> and is now its current one: it opens, moves between
    /// the sets, or closes. Returns the incident evicted to make room when it opened, or null.
    /// </summary>
    public FleetEvent? Changed(FleetEvent e, ImmuneSeverity before)
    {
        if (!e.Open)
        {
            return Add(e); // escalated (or escalated again after an eviction): news, it opens
        }

        Remove(e, before);
        return Add(e);
    }

    /// <summary>Lists up to <paramref name="max"/> open incidents, CRITICAL first, newest recording first within each.</summary>
    public List<ImmuneFleetIncident> List(int max, Func<FleetEvent, DateTimeOffset> lastSeen)
    {
        var list = new List<ImmuneFleetIncident>(Math.Min(max, Count));
        foreach (SortedSet<FleetEvent> set in new[] { _critical, _warning })
        {
            foreach (FleetEvent e in set)
            {
                if (list.Count == max)
                {
                    return list;
                }

                list.Add(e.ToIncident(lastSeen(e)));
            }
        }

        return list;
    }

    /// <summary>Gets up to <paramref name="max"/> sources with open incidents, worst first, with their counts.</summary>
    public IEnumerable<(string Source, int Critical, int Warning)> WorstSources(int max)
        => _ranked.Take(max).Select(static s => (s.Source, s.Critical, s.Warning));

    /// <summary>Gets the open incidents of one source.</summary>
    public (int Critical, int Warning) OfSource(string source)
        => _bySource.TryGetValue(source, out SourceIncidents? s) ? (s.Critical, s.Warning) : (0, 0);

    private void Remove(FleetEvent e, ImmuneSeverity severity)
    {
        if (e.Open && SetOf(severity) is { } set && set.Remove(e))
        {
            e.Open = false;
            Rank(e.Key.Source, severity, -1);
        }
    }

    /// <summary>Moves a source's rank by one incident of <paramref name="severity"/>; a source with none leaves the ranking.</summary>
    private void Rank(string source, ImmuneSeverity severity, int delta)
    {
        if (!_bySource.TryGetValue(source, out SourceIncidents? s))
        {
            _bySource.Add(source, s = new SourceIncidents(source));
        }
        else
        {
            _ranked.Remove(s);
        }

        if (severity == ImmuneSeverity.Critical)
        {
            s.Critical += delta;
        }
        else
        {
            s.Warning += delta;
        }

        if (s.Critical + s.Warning == 0)
        {
            _bySource.Remove(source);
        }
        else
        {
            _ranked.Add(s);
        }
    }

    private SortedSet<FleetEvent>? SetOf(ImmuneSeverity severity) => severity switch
    {
        ImmuneSeverity.Critical => _critical,
        ImmuneSeverity.Warning => _warning,
        _ => null,
    };

    /// <summary>A source's open incidents; its counts change only while it is out of the ranking.</summary>
    private sealed class SourceIncidents(string source)
    {
        public string Source { get; } = source;

        public int Critical;

        public int Warning;
    }

    /// <summary>Most CRITICAL first, then most WARNING, then by source (ordinal).</summary>
    private sealed class WorstFirst : IComparer<SourceIncidents>
    {
        public static readonly WorstFirst Instance = new();

        public int Compare(SourceIncidents? x, SourceIncidents? y)
        {
            int c = y!.Critical.CompareTo(x!.Critical);
            if (c == 0) c = y.Warning.CompareTo(x.Warning);
            return c != 0 ? c : string.CompareOrdinal(x.Source, y.Source);
        }
    }

    /// <summary>Newest recording first; equal times by fleet identity.</summary>
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

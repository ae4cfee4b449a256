using Immune.Internal;

namespace Immune.Fleet;

/// <summary>
/// The events a fleet view counts, by recording time: for the whole fleet, per source (with its instances), and each
/// source at its newest recording, so every window's counts are a prefix sum whatever the fleet's size.
/// </summary>
internal sealed class CountedEvents
{
    private readonly TallyTree<FleetEvent> _all = new(FleetEvent.ByKey);
    private readonly SortedDictionary<string, FleetSource> _sources = new(StringComparer.Ordinal);
    private readonly TallyTree<string> _sourceLatest = new(StringComparer.Ordinal);

    public int Count => _all.Count;

    /// <summary>Gets the earliest counted event (equal times by fleet identity), or null.</summary>
    public FleetEvent? Earliest => _all.First?.Item;

    public IEnumerable<FleetSource> Sources => _sources.Values;

    /// <summary>Gets the fleet's counts from a recording time (UTC ticks) on.</summary>
    public Tally From(long from) => _all.From(from);

    /// <summary>Gets how many sources have an event counted from a recording time on.</summary>
    public int SourcesFrom(long from) => _sourceLatest.From(from).Total;

    public FleetSource? Source(string name) => _sources.GetValueOrDefault(name);

    /// <summary>Starts counting an event at its recording time.</summary>
    public void Add(FleetEvent e)
    {
        e.Counted = _all.Add(e.RecordedTicks, e.Tally, e);
        string name = e.Key.Source;
        if (!_sources.TryGetValue(name, out FleetSource? source))
        {
            _sources.Add(name, source = new FleetSource(name));
        }

        source.Count(e);
        if (source.Latest is null || e.RecordedTicks > source.Latest.Ticks)
        {
            if (source.Latest is not null) _sourceLatest.Remove(source.Latest);
            source.Latest = _sourceLatest.Add(e.RecordedTicks, Tally.One, name);
        }
    }

    /// <summary>Counts a counted event again after its severity changed.</summary>
    public void Retally(FleetEvent e)
    {
        _all.Retally(e.Counted!, e.Tally);
        _sources[e.Key.Source].Events.Retally(e.CountedInSource!, e.Tally);
    }

    /// <summary>Stops counting an event: the earliest counted one, so each source's newest time stays right.</summary>
    public void Remove(FleetEvent e)
    {
        _all.Remove(e.Counted!);
        e.Counted = null;
        FleetSource source = _sources[e.Key.Source];
        source.Uncount(e);
        if (source.Events.Count == 0)
        {
            _sourceLatest.Remove(source.Latest!);
            _sources.Remove(e.Key.Source);
        }
    }
}

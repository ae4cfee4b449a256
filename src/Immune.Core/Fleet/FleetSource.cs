using Immune.Internal;

namespace Immune.Fleet;

/// <summary>
/// The counted events of one source and its instances. An instance sits in <see cref="Instances"/> at the newest
/// recording time of its counted events, so the instances seen in a window are counted like events.
/// </summary>
internal sealed class FleetSource(string name)
{
    private readonly Dictionary<string, Instance> _byId = new(StringComparer.Ordinal);

    public string Name { get; } = name;

    public TallyTree<FleetEvent> Events { get; } = new(FleetEvent.ByKey);

    public TallyTree<string> Instances { get; } = new();

    /// <summary>Gets or sets the source's place in the view's tree of sources by their newest recording time.</summary>
    public TallyTree<string>.Node? Latest { get; set; }

    public void Count(FleetEvent e)
    {
        e.CountedInSource = Events.Add(e.RecordedTicks, e.Tally, e);
        string id = e.Key.InstanceId ?? string.Empty;
        if (!_byId.TryGetValue(id, out Instance? instance))
        {
            _byId.Add(id, instance = new Instance());
        }

        instance.Events++;
        if (instance.Latest is null || e.RecordedTicks > instance.Latest.Ticks)
        {
            if (instance.Latest is not null) Instances.Remove(instance.Latest);
            instance.Latest = Instances.Add(e.RecordedTicks, Tally.One, id);
        }
    }

    /// <summary>Stops counting an event that is the earliest counted one, so its instance's newest time stays right.</summary>
    public void Uncount(FleetEvent e)
    {
        Events.Remove(e.CountedInSource!);
        e.CountedInSource = null;
        string id = e.Key.InstanceId ?? string.Empty;
        Instance instance = _byId[id];
        if (--instance.Events == 0)
        {
            Instances.Remove(instance.Latest!);
            _byId.Remove(id);
        }
    }

    private sealed class Instance
    {
        public int Events;
        public TallyTree<string>.Node? Latest;
    }
}

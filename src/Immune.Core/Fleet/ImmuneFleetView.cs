using Immune.Fleet;
using Immune.Internal;

namespace Immune;

/// <summary>
/// Answers "how healthy is the fleet over the last N minutes" from the envelopes a consumer reads: every instance of
/// every service, folded into the summary <see cref="ImmuneService.GetHealthSummary"/> gives for one process.
/// </summary>
/// <remarks>
/// <para>
/// An event is named by its fleet identity (<see cref="EventEnvelope.Source"/>, <see cref="EventMeta.InstanceId"/>,
/// <see cref="ImmunePayload.EventId"/>). Each envelope about it is an observation of its severity: the latest
/// (<c>published_at</c>, <c>critical_at</c>, <c>changed_at</c>, a repeat report's <c>timestamp</c>) wins, and at equal
/// times a severity change outranks a critical event, which outranks a repeat report, which outranks the publication. So the state is the same in whatever order envelopes arrive —
/// redelivered, reclaimed from a dead consumer, or split across consumers — and applying one twice changes nothing.
/// An <see cref="ImmuneService"/> stamps every envelope about an event at least a millisecond after the last one it
/// wrote about it, whatever its clock does, so its envelopes never tie. Of another producer, two severity changes of
/// one event in the same millisecond are ordered by their chain (the one whose previous severity is the other's new
/// one is later); a change and its undoing within one millisecond stay in the order they arrive.
/// </para>
/// <para>
/// An event counts once its <c>immune.event_published</c> arrived, at the recording time that envelope carries; the
/// window is judged on it. Envelopes whose payload this version does not know are remembered and
/// otherwise ignored. Memory is bounded by <see cref="ImmuneFleetOptions.RetentionCapacity"/>. Thread-safe; a summary
/// costs O(log n) per source in the counted events.
/// </para>
/// </remarks>
public sealed class ImmuneFleetView
{
    private static readonly ImmuneSeverity[] Severities = Enum.GetValues<ImmuneSeverity>();
    private static readonly ImmuneEventType[] EventTypes = Enum.GetValues<ImmuneEventType>();

    private readonly Gate _gate = new();
    private readonly TimeProvider _timeProvider;
    private readonly int _capacity;
    private readonly RecentIds _applied;
    private readonly Dictionary<FleetKey, FleetEvent> _events = [];
    private readonly TallyTree<FleetEvent> _counted = new(FleetEvent.ByKey);
    private readonly SortedSet<FleetEvent> _waiting = new(FleetEvent.ByLatestObservation); // events seen before their publication
    private readonly SortedDictionary<string, FleetSource> _sources = new(StringComparer.Ordinal);
    private readonly OpenIncidents _incidents = new();

    /// <summary>The most characters of an event's message, agent id or module kept for incidents: the default <see cref="ImmuneOptions.MaxMessageLength"/>.</summary>
    internal const int MaxIncidentTextLength = 4096;

    /// <summary>The most incidents one <see cref="GetIncidents"/> call returns.</summary>
    internal const int MaxIncidents = 10_000;

    /// <summary>Creates an empty view.</summary>
    /// <param name="options">The options; null for the defaults. The view keeps a copy.</param>
    /// <param name="timeProvider">The clock that <see cref="GetHealthSummary"/> ends its window at; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names each one.</exception>
    public ImmuneFleetView(ImmuneFleetOptions? options = null, TimeProvider? timeProvider = null)
    {
        ImmuneFleetOptions copy = options?.Clone() ?? new ImmuneFleetOptions();
        copy.Validate();
        _capacity = copy.RetentionCapacity;
        _applied = new RecentIds((int)Math.Min(int.MaxValue, 4L * _capacity));
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Folds one envelope into the view.</summary>
    /// <param name="envelope">An envelope read from the stream, e.g. by <see cref="ImmuneJson.DeserializeEnvelope(ReadOnlySpan{byte})"/>. Must not be null.</param>
    /// <returns>False when an envelope with the same <see cref="EventEnvelope.Id"/> was applied already (it changes nothing); else true.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="envelope"/>, its id, source, meta or payload is null.</exception>
    /// <exception cref="ArgumentException">The payload's severity or type is not a defined value.</exception>
    public bool Apply(EventEnvelope envelope)
    {
        Guard.NotNull(envelope, nameof(envelope));
        Guard.NotNull(envelope.Id, "envelope.Id");
        Guard.NotNull(envelope.Source, "envelope.Source");
        Guard.NotNull(envelope.Meta, "envelope.Meta");
        ImmunePayload payload = envelope.Payload;
        Guard.NotNull(payload, "envelope.Payload");
        Guard.Defined(payload.Severity, "envelope.Payload.Severity");
        Guard.Defined(payload.Type, "envelope.Payload.Type");

        FleetKey key = FleetKey.Of(envelope);
        lock (_gate)
        {
            if (!_applied.Add(envelope.Id))
            {
                return false;
            }

            switch (payload)
            {
                case ImmuneEventPublishedPayload published:
                    Record(Observe(key, payload, payload.Severity, published.PublishedAt, ObservationRank.Published), published.PublishedAt);
                    break;
                case ImmuneCriticalEventPayload critical:
                    Observe(key, payload, payload.Severity, critical.CriticalAt, ObservationRank.Critical);
                    break;
                case ImmuneSeverityChangedPayload changed:
                    Observe(key, payload, changed.PreviousSeverity, changed.ChangedAt, ObservationRank.SeverityChanged);
                    break;
                case ImmuneEventRepeatedPayload:
                    Observe(key, payload, payload.Severity, envelope.Timestamp, ObservationRank.Repeated);
                    break;
            }

            return true;
        }
    }

    /// <summary>Summarizes the events recorded in the last <paramref name="window"/>, across the fleet and per source.</summary>
    /// <param name="window">How far back to look from now; <see cref="TimeSpan.MaxValue"/> for every counted event. Must not be negative.</param>
    /// <returns>The summary; each event counted once, at its latest severity.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is negative.</exception>
    public ImmuneFleetSummary GetHealthSummary(TimeSpan window)
    {
        Guard.Window(window);
        Tally fleet;
        var sources = new List<ImmuneSourceHealth>();
        DateTimeOffset now;
        lock (_gate)
        {
            now = _timeProvider.GetUtcNow();
            long from = FromTicks(window, now);
            fleet = _counted.From(from);
            foreach (FleetSource source in _sources.Values)
            {
                Tally tally = source.Events.From(from);
                if (tally.Total > 0)
                {
                    sources.Add(new ImmuneSourceHealth
                    {
                        Source = source.Name,
                        Status = tally.Status,
                        ActiveIssues = tally.Total,
                        CriticalIssues = tally.Critical,
                        Instances = source.Instances.From(from).Total,
                    });
                }
            }
        }

        return new ImmuneFleetSummary
        {
            Status = fleet.Status,
            ActiveIssues = fleet.Total,
            CriticalIssues = fleet.Critical,
            CountsBySeverity = Severities.ToDictionary(severity => severity, fleet.Count),
            CountsByType = EventTypes.ToDictionary(type => type, fleet.Count),
            Window = window,
            GeneratedAt = now,
            Sources = sources,
        };
    }

    /// <summary>
    /// Lists the open incidents: the counted events recorded in the last <paramref name="window"/> (judged as
    /// <see cref="GetHealthSummary"/> judges it) whose current severity is WARNING or CRITICAL. CRITICAL come before
    /// WARNING, the newest recording first within each, equal recording times in the order of (source, instance id,
    /// event id). An incident changed to INFO leaves the list; the list is the same in whatever order the envelopes arrived.
    /// </summary>
    /// <param name="window">How far back to look from now; <see cref="TimeSpan.MaxValue"/> for every counted event. Must not be negative.</param>
    /// <param name="max">The most incidents to return: 1 to 10,000.</param>
    /// <returns>A new list; O(log n + <paramref name="max"/>) in the counted events.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is negative, or <paramref name="max"/> is out of range.</exception>
    public IReadOnlyList<ImmuneFleetIncident> GetIncidents(TimeSpan window, int max = 100)
    {
        Guard.Window(window);
        if (max is < 1 or > MaxIncidents)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, $"max must be from 1 to {MaxIncidents}.");
        }

        lock (_gate)
        {
            return _incidents.List(FromTicks(window, _timeProvider.GetUtcNow()), max);
        }
    }

    /// <summary>The first recording time (UTC ticks) in the window that ends at <paramref name="now"/>.</summary>
    private static long FromTicks(TimeSpan window, DateTimeOffset now)
        => window >= now - DateTimeOffset.MinValue ? long.MinValue : (now - window).UtcTicks;

    /// <summary>Applies a severity observation to the event, creating it when new; a new event waits for its recording
    /// time unless the observation is its publication (which records it at once).</summary>
    private FleetEvent Observe(FleetKey key, ImmunePayload payload, ImmuneSeverity previous, DateTimeOffset at, ObservationRank rank)
    {
        if (!_events.TryGetValue(key, out FleetEvent? e))
        {
            e = new FleetEvent(key, payload.Type);
            _events.Add(key, e);
            e.Waiting = rank != ObservationRank.Published;
        }

        // A waiting event is ordered by its latest observation: take it out while that changes.
        bool waiting = e.Waiting;
        if (waiting)
        {
            _waiting.Remove(e);
        }

        e.Note(payload, at);
        if (waiting)
        {
            _waiting.Add(e);
            if (_waiting.Count > _capacity)
            {
                Forget(_waiting.Min!); // the one observed earliest (equal times by fleet identity): whatever the arrival order
            }
        }

        ImmuneSeverity before = e.Severity;
        if (e.Observe(payload.Severity, previous, at, rank) && e.Counted is not null)
        {
            _counted.Retally(e.Counted, e.Tally);
            _sources[key.Source].Events.Retally(e.CountedInSource!, e.Tally);
            _incidents.Changed(e, before);
        }

        return e;
    }

    /// <summary>Starts counting the event at its recording time, making room by the earliest counted event when full.</summary>
    private void Record(FleetEvent e, DateTimeOffset recordedAt)
    {
        if (e.Counted is not null)
        {
            return; // recorded already
        }

        FleetKey key = e.Key;

        long ticks = recordedAt.UtcTicks;
        if (_counted.Count == _capacity)
        {
            FleetEvent earliest = _counted.First!.Item;
            if (ticks < earliest.RecordedTicks || (ticks == earliest.RecordedTicks && FleetKey.Compare(key, earliest.Key) < 0))
            {
                Forget(e); // earlier than everything counted (equal times by fleet identity): it would be the first to leave
                return;
            }

            Forget(earliest);
        }

        if (e.Waiting)
        {
            _waiting.Remove(e);
            e.Waiting = false;
        }

        e.RecordedTicks = ticks;
        e.Counted = _counted.Add(ticks, e.Tally, e);
        if (!_sources.TryGetValue(key.Source, out FleetSource? source))
        {
            _sources.Add(key.Source, source = new FleetSource(key.Source));
        }

        source.Count(e);
        _incidents.Add(e);
    }

    private void Forget(FleetEvent e)
    {
        _events.Remove(e.Key);
        if (e.Waiting)
        {
            _waiting.Remove(e);
            e.Waiting = false;
        }

        if (e.Counted is null)
        {
            return;
        }

        _incidents.Remove(e);
        _counted.Remove(e.Counted!);
        e.Counted = null;
        FleetSource source = _sources[e.Key.Source];
        source.Uncount(e);
        if (source.Events.Count == 0)
        {
            _sources.Remove(e.Key.Source);
        }
    }
}

using Immune.Fleet;
using Immune.Internal;

namespace Immune;

/// <summary>
/// Answers "how healthy is the fleet over the last N minutes" and "what is open now" from the envelopes a consumer
/// reads: every instance of every service, folded into the summary <see cref="ImmuneService.GetHealthSummary"/> gives
/// for one process, and the open incidents of the whole fleet, whatever their age.
/// </summary>
/// <remarks>
/// <para>
/// An event is named by its fleet identity (<see cref="EventEnvelope.Source"/>, <see cref="EventMeta.InstanceId"/>,
/// <see cref="ImmunePayload.EventId"/>; an empty instance id is none). Each envelope about it is an observation of its
/// severity: the latest (<c>published_at</c>, <c>critical_at</c>, <c>changed_at</c>, a repeat report's <c>timestamp</c>)
/// wins, and at equal times a severity change outranks a critical event, which outranks a repeat report, which outranks
/// the publication. So the state is the same in whatever order envelopes arrive — redelivered, reclaimed from a dead
/// consumer, or split across consumers — and applying one twice changes nothing. Where the view must choose among
/// events recorded in the same instant, it orders them by fleet identity, never by arrival.
/// </para>
/// <para>
/// An event counts once its <c>immune.event_published</c> arrived, at the recording time that envelope carries; the
/// summary's window is judged on it, and <see cref="ImmuneFleetOptions.RetentionCapacity"/> bounds the events counted.
/// Open incidents (events whose current severity is WARNING or CRITICAL) are kept apart from them, whatever their age and
/// whatever else arrives, until they are resolved, bounded by <see cref="ImmuneFleetOptions.IncidentCapacity"/>.
/// Envelopes whose payload this version does not know are remembered and otherwise ignored. Thread-safe.
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
    private readonly Dictionary<FleetKey, FleetEvent> _events = []; // counted, waiting for their publication, or open incidents
    private readonly CountedEvents _counted = new();
    private readonly SortedSet<FleetEvent> _waiting = new(FleetEvent.ByLatestObservation); // events seen before their publication
    private readonly OpenIncidents _incidents;
    private readonly InstanceClocks _instances = new();
    private readonly MinuteCounts _minutes = new();
    private readonly ForgottenEvents _forgotten;

    /// <summary>The most characters of an event's message, agent id or module kept for incidents: the default <see cref="ImmuneOptions.MaxMessageLength"/>.</summary>
    internal const int MaxIncidentTextLength = 4096;

    /// <summary>The most incidents one <see cref="GetIncidents"/> call returns, and the most sources one bounded summary lists.</summary>
    internal const int MaxListed = 10_000;

    /// <summary>Creates an empty view.</summary>
    /// <param name="options">The options; null for the defaults. The view keeps a copy.</param>
    /// <param name="timeProvider">The clock that <see cref="GetHealthSummary(TimeSpan)"/> ends its window at; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names each one.</exception>
    public ImmuneFleetView(ImmuneFleetOptions? options = null, TimeProvider? timeProvider = null)
    {
        ImmuneFleetOptions copy = options?.Clone() ?? new ImmuneFleetOptions();
        copy.Validate();
        _capacity = copy.RetentionCapacity;
        _applied = new RecentIds((int)Math.Min(int.MaxValue, 4L * _capacity));
        _incidents = new OpenIncidents(copy.IncidentCapacity);
        _forgotten = new ForgottenEvents((int)Math.Min(int.MaxValue, 4L * _capacity));
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
                    Record(Observe(key, payload, payload.Severity, published.PublishedAt, ObservationRank.Published), published.PublishedAt, payload.Severity);
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

            _instances.Heard(key, envelope.Timestamp);
            return true;
        }
    }

    /// <summary>Whether an event is an open incident of the view (WARNING or CRITICAL now, not evicted): for a reader that keeps, at the broker, what rebuilding it needs.</summary>
    /// <param name="source">The event's source. Must not be null.</param>
    /// <param name="instanceId">The instance that recorded it; null or empty for none.</param>
    /// <param name="eventId">The event's id.</param>
    /// <returns>True while the event's incident is open.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    public bool IsOpenIncident(string source, string? instanceId, long eventId)
    {
        Guard.NotNull(source, nameof(source));
        lock (_gate)
        {
            return _events.TryGetValue(new FleetKey(source, string.IsNullOrEmpty(instanceId) ? null : instanceId, eventId), out FleetEvent? e) && e.Open;
        }
    }

    /// <summary>Summarizes the events recorded in the last <paramref name="window"/>, across the fleet and per source (every source with an event in the window).</summary>
    /// <param name="window">How far back to look from now; <see cref="TimeSpan.MaxValue"/> for every counted event. Must not be negative.</param>
    /// <returns>The summary; each event counted once, at its latest severity.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is negative.</exception>
    /// <remarks>Its cost grows with the number of sources: for a large fleet, <see cref="GetHealthSummary(TimeSpan, int)"/> lists the worst only.</remarks>
    public ImmuneFleetSummary GetHealthSummary(TimeSpan window)
    {
        Guard.Window(window);
        lock (_gate)
        {
            DateTimeOffset now = _timeProvider.GetUtcNow();
            long from = FromTicks(window, now);
            var sources = new List<ImmuneSourceHealth>();
            foreach (FleetSource source in _counted.Sources)
            {
                if (SourceHealth(source.Name, from) is { ActiveIssues: > 0 } health)
                {
                    sources.Add(health);
                }
            }

            return Summary(window, now, from, sources);
        }
    }

    /// <summary>
    /// Summarizes the events recorded in the last <paramref name="window"/> as <see cref="GetHealthSummary(TimeSpan)"/>
    /// does, but lists only the worst sources: those with open incidents, most CRITICAL first, then most WARNING, at most
    /// <paramref name="maxSources"/>; <see cref="ImmuneFleetSummary.SourceCount"/> says how many sources there are in the
    /// window. Its cost does not depend on the number of sources.
    /// </summary>
    /// <param name="window">How far back to look from now; <see cref="TimeSpan.MaxValue"/> for every counted event. Must not be negative.</param>
    /// <param name="maxSources">The most sources to list: 0 to 10,000.</param>
    /// <returns>The summary.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is negative, or <paramref name="maxSources"/> is out of range.</exception>
    public ImmuneFleetSummary GetHealthSummary(TimeSpan window, int maxSources)
    {
        Guard.Window(window);
        if (maxSources is < 0 or > MaxListed)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSources), maxSources, $"maxSources must be from 0 to {MaxListed:N0}.");
        }

        lock (_gate)
        {
            DateTimeOffset now = _timeProvider.GetUtcNow();
            long from = FromTicks(window, now);
            var sources = new List<ImmuneSourceHealth>(Math.Min(maxSources, 64));
            foreach ((string name, _, _) in _incidents.WorstSources(maxSources))
            {
                sources.Add(SourceHealth(name, from));
            }

            return Summary(window, now, from, sources);
        }
    }

    /// <summary>
    /// Lists the open incidents: every event whose current severity is WARNING or CRITICAL, whatever its age, until it is
    /// resolved (within <see cref="ImmuneFleetOptions.IncidentCapacity"/>). CRITICAL come before WARNING, the newest
    /// recording first within each, equal recording times in the order of (source, instance id, event id). The list is the
    /// same in whatever order the envelopes arrived.
    /// </summary>
    /// <param name="max">The most incidents to return: 1 to 10,000.</param>
    /// <returns>A new list; O(log n + <paramref name="max"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is out of range.</exception>
    public IReadOnlyList<ImmuneFleetIncident> GetIncidents(int max = 100)
    {
        if (max is < 1 or > MaxListed)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, $"max must be from 1 to {MaxListed:N0}.");
        }

        lock (_gate)
        {
            return _incidents.List(max, e => _instances.LastSeen(e.Key));
        }
    }

    /// <summary>
    /// Gets the events recorded in each of the last <paramref name="minutes"/> clock minutes (the current, partial one
    /// last), by their severity when they were published, as the publications arrived: its cost is the minutes asked
    /// for, whatever the fleet's size. Minutes more than a day ago are not kept.
    /// </summary>
    /// <param name="minutes">How many minutes: 1 to 1,440.</param>
    /// <returns>One entry per minute, oldest first.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minutes"/> is out of range.</exception>
    public IReadOnlyList<ImmuneFleetMinute> GetRecordedPerMinute(int minutes)
    {
        if (minutes is < 1 or > MinuteCounts.Minutes - 1)
        {
            throw new ArgumentOutOfRangeException(nameof(minutes), minutes, $"minutes must be from 1 to {MinuteCounts.Minutes - 1:N0}.");
        }

        lock (_gate)
        {
            return _minutes.Last(minutes, _timeProvider.GetUtcNow());
        }
    }

    /// <summary>The first recording time (UTC ticks) in the window that ends at <paramref name="now"/>.</summary>
    private static long FromTicks(TimeSpan window, DateTimeOffset now)
        => window >= now - DateTimeOffset.MinValue ? long.MinValue : (now - window).UtcTicks;

    private ImmuneFleetSummary Summary(TimeSpan window, DateTimeOffset now, long from, List<ImmuneSourceHealth> sources)
    {
        Tally fleet = _counted.From(from);
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
            SourceCount = _counted.SourcesFrom(from),
            OpenIncidents = _incidents.Count,
            OpenCriticalIncidents = _incidents.Critical,
            IncidentsEvicted = _incidents.Evicted,
        };
    }

    private ImmuneSourceHealth SourceHealth(string name, long from)
    {
        Tally tally = default;
        int instances = 0;
        if (_counted.Source(name) is { } source)
        {
            tally = source.Events.From(from);
            instances = source.Instances.From(from).Total;
        }

        (int critical, int warning) = _incidents.OfSource(name);
        return new ImmuneSourceHealth
        {
            Source = name,
            Status = tally.Status,
            ActiveIssues = tally.Total,
            CriticalIssues = tally.Critical,
            Instances = instances,
            OpenIncidents = critical + warning,
            OpenCriticalIncidents = critical,
        };
    }

    /// <summary>Applies a severity observation to the event, creating it when new; a new event waits for its recording
    /// time unless the observation is its publication (which records it at once).</summary>
    private FleetEvent Observe(FleetKey key, ImmunePayload payload, ImmuneSeverity previous, DateTimeOffset at, ObservationRank rank)
    {
        bool recalled = false;
        if (!_events.TryGetValue(key, out FleetEvent? e))
        {
            e = new FleetEvent(key, payload.Type);
            _events.Add(key, e);
            _instances.Hold(key);
            if (_forgotten.TryTake(key, out FleetEvent.Memory memory))
            {
                e.Recall(memory); // recorded, and let go of lately: taken up as it was, whatever came first
                recalled = true;
            }
            else
            {
                e.Waiting = rank != ObservationRank.Published;
            }
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
                FleetEvent oldest = _waiting.Min!; // the one observed earliest (equal times by fleet identity): whatever the arrival order
                _waiting.Remove(oldest);
                oldest.Waiting = false;
                Release(oldest);
            }
        }

        ImmuneSeverity before = e.Severity;
        if (e.Observe(payload.Severity, previous, at, rank) && e.RecordedTicks != 0)
        {
            if (e.Counted is not null)
            {
                _counted.Retally(e);
            }

            if (_incidents.Changed(e, before) is { } evicted)
            {
                Release(evicted);
            }

            if (!e.Open)
            {
                Release(e); // resolved: it stays while it is counted
            }
        }

        if (recalled)
        {
            Release(e); // unless the envelope opened its incident, it goes back to the memory
        }

        return e;
    }

    /// <summary>
    /// Starts counting the event at its recording time (making room by the earliest counted event when full), opens its
    /// incident when it is WARNING or CRITICAL, and counts it in its minute by <paramref name="publishedSeverity"/>.
    /// </summary>
    private void Record(FleetEvent e, DateTimeOffset recordedAt, ImmuneSeverity publishedSeverity)
    {
        if (e.RecordedTicks != 0)
        {
            return; // recorded already
        }

        FleetKey key = e.Key;
        long ticks = recordedAt.UtcTicks;
        if (e.Waiting)
        {
            _waiting.Remove(e);
            e.Waiting = false;
        }

        e.RecordedTicks = ticks == 0 ? 1 : ticks; // 0 means "not recorded": the first instant of year 1 is taken as the next
        _minutes.Count(e.RecordedTicks, publishedSeverity, _timeProvider.GetUtcNow());
        if (_incidents.Add(e) is { } evicted && !ReferenceEquals(evicted, e))
        {
            Release(evicted);
        }

        if (_counted.Count == _capacity)
        {
            FleetEvent earliest = _counted.Earliest!;
            if (ticks < earliest.RecordedTicks || (ticks == earliest.RecordedTicks && FleetKey.Compare(key, earliest.Key) < 0))
            {
                Release(e); // earlier than everything counted (equal times by fleet identity): it would be the first to leave
                return;
            }

            _counted.Remove(earliest);
            Release(earliest);
        }

        _counted.Add(e);
    }

    /// <summary>Forgets an event the view no longer needs: not counted, not waiting for its publication, no open incident.</summary>
    private void Release(FleetEvent e)
    {
        if (e.Counted is not null || e.Waiting || e.Open || !_events.Remove(e.Key))
        {
            return;
        }

        _instances.Release(e.Key);
        if (e.RecordedTicks != 0)
        {
            _forgotten.Add(e.Key, e.Remember());
        }
    }
}

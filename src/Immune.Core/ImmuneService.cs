using System.Diagnostics;
using System.Diagnostics.Metrics;
using Immune.Delivery;
using Immune.Folding;
using Immune.Internal;
using Immune.Storage;
using Immune.Spool;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Immune;

/// <summary>
/// Records immune events, keeps the newest in bounded memory, summarizes health over a window, and delivers every event
/// as a Charter v1.0 envelope to an <see cref="IEventStream"/>: <c>immune.event_published</c> for each event, then
/// <c>immune.critical_event</c> for a CRITICAL one.
/// </summary>
/// <remarks>
/// Every member may be called from any number of threads. With the default <see cref="ImmuneDelivery.Background"/>
/// delivery, <see cref="PublishAsync"/> never waits for the stream and never throws for it; every envelope ends as
/// delivered, failed or dropped and is counted (<see cref="GetDeliveryStats"/>, the <c>Immune</c> meter). Dispose the
/// service to drain what is queued within <see cref="ImmuneOptions.ShutdownTimeout"/>.
/// </remarks>
public sealed class ImmuneService : IImmuneService, IAsyncDisposable, IDisposable
{
    private static readonly ImmuneSeverity[] Severities = Enum.GetValues<ImmuneSeverity>();
    private static readonly ImmuneEventType[] EventTypes = Enum.GetValues<ImmuneEventType>();
    private const int LastEventsCount = 10;

    private readonly ImmuneOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly EventValidator _validator;
    private readonly ImmuneMetrics _metrics;
    private readonly DeliveryPipeline? _pipeline; // null without a stream: record and summarize only
    private readonly FoldTimer? _folding;         // null unless FoldWindow > 0
    private readonly EnvelopeSpool? _spool;       // null unless SpoolDirectory is set (and there is a stream)

    // Guards the store and the lifecycle state. Recording an event and queueing its envelopes happen under it together
    // (the pipeline's own lock nests inside), which is what makes delivery order equal record order. The delivery loop
    // never takes it: summaries do not wait for delivery.
    private readonly Gate _gate = new();
    private readonly EventStore _store;
    private TaskCompletionSource? _disposed;

    /// <summary>Creates a service. Prefer <c>services.AddImmune()</c> in an application with a container.</summary>
    /// <param name="eventStream">Where envelopes go; <see langword="null"/> to record and summarize without publishing (logged once).
    /// A stream that implements <see cref="IBatchEventStream"/> is handed batches.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults. The service keeps a copy.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    /// <param name="timeProvider">The clock and timers; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names every invalid option.</exception>
    public ImmuneService(
        IEventStream? eventStream = null,
        ImmuneOptions? options = null,
        ILogger<ImmuneService>? logger = null,
        TimeProvider? timeProvider = null)
        : this(eventStream, options, logger, timeProvider, meterFactory: null)
    {
    }

    internal ImmuneService(
        IEventStream? eventStream,
        ImmuneOptions? options,
        ILogger<ImmuneService>? logger,
        TimeProvider? timeProvider,
        IMeterFactory? meterFactory,
        Func<double>? jitter = null)
    {
        _options = options?.Clone() ?? new ImmuneOptions();
        _options.Validate();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _validator = new EventValidator(_options);
        _store = new EventStore(_options.RetentionCapacity, tracksRepeats: _options.FoldWindow > TimeSpan.Zero);
        _metrics = new ImmuneMetrics(meterFactory, () => _pipeline?.QueueLength ?? 0, () => (_pipeline?.OldestPendingAge ?? TimeSpan.Zero).TotalSeconds);

        if (eventStream is null)
        {
            try
            {
                ImmuneLog.NoEventStream(_logger);
            }
            catch (Exception)
            {
                // A logger that throws does not stop the service from recording.
            }
        }
        else
        {
            var reporter = new DeliveryReporter(_logger, _metrics, _timeProvider, _options.DeliveryLogInterval);
            EnvelopeSpool? spool = null;
            try
            {
                spool = EnvelopeSpool.Open(_options, reporter, _timeProvider);
                _pipeline = new DeliveryPipeline(eventStream, DeliverySettings.Of(_options), InstanceId, _timeProvider, reporter, jitter, spool, _gate);
                if (spool is not null)
                {
                    // What a previous owner left goes first, with its ids, streamed from its files (beyond QueueCapacity
                    // it waits on disk again); once it is written anew, the old files go.
                    _pipeline.ReplayFromSpool();
                    spool.StartSyncing(_pipeline.SettledThrough);
                    _spool = spool;
                }
            }
            catch
            {
                // A second owner of the directory, or a disk that fails at start: release what was opened.
                spool?.Dispose();
                _metrics.Dispose();
                throw;
            }
        }

        if (_options.FoldWindow > TimeSpan.Zero)
        {
            _folding = new FoldTimer(new StormFolder(_options.FoldWindow, _options.RetentionCapacity, _store), _gate, _pipeline, _timeProvider);
        }

        Parts = new ImmuneServiceParts(_pipeline, _spool, _folding);
    }

    /// <summary>
    /// Gets this instance's identity on the wire: 16 random hex digits drawn at construction, new on every start and
    /// never configured, written into every envelope as <see cref="EventMeta.InstanceId"/> (<c>meta.instance_id</c>).
    /// Event ids restart at 1 in every process; (<see cref="ImmuneOptions.Source"/>, <see cref="InstanceId"/>, event id)
    /// names an event across a fleet.
    /// </summary>
    public string InstanceId { get; } = System.Security.Cryptography.RandomNumberGenerator.GetHexString(16, lowercase: true);

    /// <summary>Gets what the service is built of, for tests that reach inside it.</summary>
    internal ImmuneServiceParts Parts { get; }

    /// <inheritdoc />
    /// <remarks>
    /// In <see cref="ImmuneDelivery.Background"/> mode this returns as soon as the event is recorded and its envelopes are
    /// queued. In <see cref="ImmuneDelivery.Inline"/> mode it also waits until they are delivered, failed or dropped;
    /// cancelling <paramref name="cancellationToken"/> then ends the wait early, and the id is still returned. With
    /// <see cref="ImmuneOptions.FoldWindow"/> set, a publish identical to an event recorded less than that long ago is
    /// folded into it: it returns that event's id at once and queues nothing.
    /// </remarks>
    public ValueTask<long> PublishAsync(NewImmuneEvent newEvent, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        IReadOnlyDictionary<string, object?>? meta = _validator.Validate(newEvent);
        cancellationToken.ThrowIfCancellationRequested();
        ActivityTraceId correlation = CurrentCorrelation();

        ImmuneEvent? recorded = null;
        long folded = 0;
        DeliveryIntake intake = new(_pipeline);
        try
        {
            lock (_gate)
            {
                ThrowIfDisposed();
                DateTimeOffset now = _timeProvider.GetUtcNow();
                DateTimeOffset last = _store.LastCreatedAt;
                DateTimeOffset createdAt = now < last ? last : now; // recording times never decrease
                folded = _folding?.FoldOrOpen(newEvent, now, createdAt, ref intake) ?? 0; // repeat reports that came due on the way
                if (folded == 0)
                {
                    recorded = RecordLocked(newEvent, meta, createdAt, correlation, ref intake);
                }
            }
        }
        finally
        {
            intake.Dispose();
        }

        if (recorded is null)
        {
            return new ValueTask<long>(folded);
        }

        try
        {
            _metrics.Recorded(recorded.Severity, recorded.Type);
        }
        catch (Exception)
        {
            // A metrics listener that throws must not fail a publish that is already recorded.
        }

        return _pipeline is null ? new ValueTask<long>(recorded.Id) : _pipeline.AfterIntake(recorded.Id, intake.LastSequence, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// On a real change the stored event takes the new severity (summaries follow it) and an <c>immune.severity_changed</c>
    /// envelope is published; an escalation to CRITICAL also publishes <c>immune.critical_event</c>, after it. Setting the
    /// severity the event already has publishes nothing. Waits for delivery in <see cref="ImmuneDelivery.Inline"/> mode only.
    /// </remarks>
    public ValueTask<bool> ChangeSeverityAsync(long eventId, ImmuneSeverity severity, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        Guard.Defined(severity, nameof(severity));
        cancellationToken.ThrowIfCancellationRequested();
        ActivityTraceId correlation = CurrentCorrelation();

        DeliveryIntake intake = new(_pipeline);
        try
        {
            lock (_gate)
            {
                ThrowIfDisposed();
                if (!_store.TryGet(eventId, out ImmuneEvent current))
                {
                    return new ValueTask<bool>(false);
                }

                if (current.Severity == severity)
                {
                    return new ValueTask<bool>(true);
                }

                DateTimeOffset changedAt = _store.NextStamp(eventId, _timeProvider.GetUtcNow()); // after every time written about it
                ImmuneEvent updated = current with { Severity = severity };
                _store.Replace(updated);
                _folding?.Folder.Changed(current);
                intake.Enqueue(EnvelopeKind.SeverityChanged, updated, changedAt, current.Severity, correlation, severity == ImmuneSeverity.Critical);
            }
        }
        finally
        {
            intake.Dispose();
        }

        return _pipeline is null ? new ValueTask<bool>(true) : _pipeline.AfterIntake(true, intake.LastSequence, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>May be called after disposal: the retained events stay readable.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is negative.</exception>
    public IReadOnlyList<ImmuneEvent> GetRecentEvents(TimeSpan window)
    {
        Guard.Window(window);
        lock (_gate)
        {
            long first = FirstIdInWindowLocked(window, out _);
            var events = new ImmuneEvent[_store.LastId - first + 1];
            for (int i = 0; i < events.Length; i++)
            {
                events[i] = _store.Get(first + i);
            }

            return events;
        }
    }

    /// <inheritdoc />
    /// <remarks>O(log n) in the number of retained events. May be called after disposal.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is negative.</exception>
    public ImmuneHealthSummary GetHealthSummary(TimeSpan window)
    {
        Guard.Window(window);
        var bySeverity = new Dictionary<ImmuneSeverity, int>(Severities.Length);
        var byType = new Dictionary<ImmuneEventType, int>(EventTypes.Length);
        ImmuneEvent[] last;
        DateTimeOffset now;
        long occurrences;
        lock (_gate)
        {
            long first = FirstIdInWindowLocked(window, out now);
            foreach (ImmuneSeverity severity in Severities) bySeverity[severity] = _store.CountBySeverity(severity, first);
            foreach (ImmuneEventType type in EventTypes) byType[type] = _store.CountByType(type, first);
            occurrences = _store.CountOccurrences(first);

            long lastFirst = Math.Max(first, _store.LastId - LastEventsCount + 1);
            last = new ImmuneEvent[_store.LastId - lastFirst + 1];
            for (int i = 0; i < last.Length; i++)
            {
                last[i] = _store.Get(lastFirst + i);
            }
        }

        int critical = bySeverity[ImmuneSeverity.Critical];
        return new ImmuneHealthSummary
        {
            ActiveIssues = bySeverity.Values.Sum(),
            CriticalIssues = critical,
            Occurrences = occurrences,
            LastEvents = last,
            Status = Tally.StatusOf(bySeverity[ImmuneSeverity.Warning], critical),
            Window = window,
            GeneratedAt = now,
            CountsBySeverity = bySeverity,
            CountsByType = byType,
        };
    }

    /// <summary>Waits until every envelope queued before the call is delivered, failed or dropped (not merely dequeued).</summary>
    /// <param name="cancellationToken">Ends the wait (with <see cref="OperationCanceledException"/>); delivery goes on.</param>
    /// <returns>A task that completes when those envelopes are settled; at once when there are none, or after disposal.</returns>
    public Task FlushAsync(CancellationToken cancellationToken = default)
        => _pipeline?.FlushAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>Gets the delivery counts, taken atomically so that <c>Queued == Delivered + Failed + Dropped + Pending</c>.</summary>
    /// <returns>A snapshot of the counts.</returns>
    public ImmuneDeliveryStats GetDeliveryStats() => _pipeline?.GetStats() ?? new ImmuneDeliveryStats();

    /// <summary>
    /// Publishes the pending <c>immune.event_repeated</c> reports, stops intake, drains the queue within <see cref="ImmuneOptions.ShutdownTimeout"/>, counts what remains as dropped
    /// (reason shutdown) and logs a summary. Returns even when the stream hangs. Idempotent: later calls return the same task.
    /// </summary>
    /// <returns>A task that completes when the service has stopped.</returns>
    public ValueTask DisposeAsync()
    {
        DeliveryIntake intake = new(_pipeline);
        try
        {
            lock (_gate)
            {
                if (_disposed is not null)
                {
                    return new ValueTask(_disposed.Task);
                }

                _disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _folding?.Stop(_timeProvider.GetUtcNow(), ref intake); // the pending repeat reports go out before the queue drains
            }
        }
        finally
        {
            intake.Dispose();
        }

        return new ValueTask(DisposeCoreAsync());
    }

    /// <summary>Disposes synchronously: see <see cref="DisposeAsync"/>. Blocks for at most the shutdown timeout.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task DisposeCoreAsync()
    {
        try
        {
            if (_pipeline is not null)
            {
                await _pipeline.StopAsync().ConfigureAwait(false);
            }

            _spool?.Stop();
        }
        finally
        {
            _metrics.Dispose();
            _disposed!.TrySetResult();
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) is not null, this);

    /// <summary>Records a new event (the oldest leaves when full) and queues its envelopes.</summary>
    private ImmuneEvent RecordLocked(NewImmuneEvent newEvent, IReadOnlyDictionary<string, object?>? meta, DateTimeOffset createdAt, ActivityTraceId correlation, ref DeliveryIntake intake)
    {
        var recorded = new ImmuneEvent(_store.LastId + 1, createdAt, newEvent.Severity, newEvent.Type, newEvent.Message)
        {
            AgentId = newEvent.AgentId,
            Module = newEvent.Module,
            Meta = meta,
        };
        _store.Add(recorded);
        intake.Enqueue(EnvelopeKind.EventPublished, recorded, recorded.CreatedAt, default, correlation, recorded.Severity == ImmuneSeverity.Critical);

        return recorded;
    }

    private long FirstIdInWindowLocked(TimeSpan window, out DateTimeOffset now)
    {
        now = _timeProvider.GetUtcNow();
        DateTimeOffset from = window >= now - DateTimeOffset.MinValue ? DateTimeOffset.MinValue : now - window;
        return _store.FirstIdAtOrAfter(from);
    }

    /// <summary>The caller's W3C trace id when it has one, else a fresh random one; either way no allocation.</summary>
    private static ActivityTraceId CurrentCorrelation()
    {
        ActivityTraceId traceId = Activity.Current?.TraceId ?? default;
        return traceId == default ? ActivityTraceId.CreateRandom() : traceId;
    }
}

using System.Diagnostics.Metrics;

namespace Immune.Internal;

/// <summary>The service's instruments on the <c>Immune</c> meter (names and tags in EVENTS.md).</summary>
internal sealed class ImmuneMetrics : IDisposable
{
    public const string MeterName = "Immune";

    // Tag values are the enums' names in snake_case ("info", "policy_violation"), indexed by the enum value.
    private static readonly KeyValuePair<string, object?>[] SeverityTags = Tags<ImmuneSeverity>("severity");
    private static readonly KeyValuePair<string, object?>[] TypeTags = Tags<ImmuneEventType>("type");

    private static KeyValuePair<string, object?>[] Tags<TEnum>(string key)
        where TEnum : struct, Enum
        => Enum.GetNames<TEnum>().Select(name => new KeyValuePair<string, object?>(key, System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(name))).ToArray();

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _recorded;
    private readonly Counter<long> _queued;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _replayed;
    private readonly Counter<long> _spoolDamaged;
    private readonly Histogram<double> _duration;

    public ImmuneMetrics(IMeterFactory? meterFactory, Func<int> queueLength, Func<double> oldestPendingAge)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _recorded = _meter.CreateCounter<long>("immune.events.recorded", "{event}", "Immune events recorded, by severity and type.");
        _queued = _meter.CreateCounter<long>("immune.envelopes.queued", "{envelope}", "Envelopes handed to the delivery pipeline.");
        _delivered = _meter.CreateCounter<long>("immune.envelopes.delivered", "{envelope}", "Envelopes the stream accepted.");
        _failed = _meter.CreateCounter<long>("immune.envelopes.failed", "{envelope}", "Envelopes that failed every attempt, by reason of the last one.");
        _dropped = _meter.CreateCounter<long>("immune.envelopes.dropped", "{envelope}", "Envelopes given up without a final attempt, by reason.");
        _replayed = _meter.CreateCounter<long>("immune.envelopes.replayed", "{envelope}", "Envelopes a previous service left unsettled in the durable spool, queued again at start.");
        _spoolDamaged = _meter.CreateCounter<long>("immune.spool.damaged", "{region}", "Damaged regions (torn tails, zeroes, corrupt records) the spool cut off at start; the files were moved aside.");
        _duration = _meter.CreateHistogram<double>("immune.envelope.delivery.duration", "s", "Time from the first attempt to the stream's acceptance, per delivery: one batch call, or one run of envelopes a plain stream accepted in sequence.");
        _meter.CreateObservableGauge("immune.queue.length", queueLength, "{envelope}", "Envelopes waiting in the delivery queue.");
        _meter.CreateObservableGauge("immune.queue.oldest_age", oldestPendingAge, "s", "Time since the oldest pending envelope was queued; 0 when none is pending. Grows while the stream fails.");
    }

    public void Recorded(ImmuneSeverity severity, ImmuneEventType type)
    {
        if (_recorded.Enabled)
        {
            _recorded.Add(1, SeverityTags[(int)severity], TypeTags[(int)type]);
        }
    }

    public void Replayed(long count)
    {
        if (count > 0)
        {
            _replayed.Add(count);
        }
    }

    public void SpoolDamaged(int regions)
    {
        if (regions > 0)
        {
            _spoolDamaged.Add(regions);
        }
    }

    public void Queued(int count)
    {
        if (count > 0)
        {
            _queued.Add(count);
        }
    }

    /// <summary>Counts delivered envelopes; one delivery (a batch call, or a run of single calls) records its duration once.</summary>
    public void Delivered(int count, TimeSpan duration)
    {
        _delivered.Add(count);
        if (_duration.Enabled)
        {
            _duration.Record(duration.TotalSeconds);
        }
    }

    public void Failed(string reason, int count) => _failed.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void Dropped(string reason, long count) => _dropped.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}

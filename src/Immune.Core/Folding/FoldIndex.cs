namespace Immune.Folding;

/// <summary>What makes two publishes identical for folding: everything but the meta.</summary>
internal readonly record struct FoldKey(ImmuneSeverity Severity, ImmuneEventType Type, string Message, string? AgentId, string? Module)
{
    public static FoldKey Of(NewImmuneEvent e) => new(e.Severity, e.Type, e.Message, e.AgentId, e.Module);

    public static FoldKey Of(ImmuneEvent e) => new(e.Severity, e.Type, e.Message, e.AgentId, e.Module);
}

/// <summary>An event that identical publishes may still fold into, until <see cref="ClosesAt"/>.</summary>
internal sealed class Fold(FoldKey key, long eventId, DateTimeOffset closesAt)
{
    public FoldKey Key { get; } = key;

    public long EventId { get; } = eventId;

    public DateTimeOffset ClosesAt { get; } = closesAt;

    /// <summary>Gets or sets whether publishes were folded into it and its report is still to go out.</summary>
    public bool ReportDue { get; set; }
}

/// <summary>
/// The events recorded in the last fold window, by identity, and the repeated ones whose reports are due when their
/// window closes. Events are recorded in time order, so windows close in id order: a queue in id order expires them,
/// and a heap keyed by id orders the pending reports. Holds only events still retained (the service reports a fold
/// before its event leaves the store). Not thread-safe: the service guards it with its lock.
/// </summary>
internal sealed class FoldIndex(TimeSpan window)
{
    private readonly Dictionary<FoldKey, Fold> _open = [];
    private readonly Queue<Fold> _recorded = new();
    private readonly PriorityQueue<Fold, long> _due = new();

    public int Count => _recorded.Count;

    /// <summary>Gets when the earliest pending report is due; null when none is.</summary>
    public DateTimeOffset? NextReportAt => _due.TryPeek(out Fold? fold, out _) ? fold.ClosesAt : null;

    /// <summary>
    /// Folds a publish at <paramref name="now"/> into an identical event whose window is still open. Returns its id, or 0
    /// when there is none (the caller records a new event and calls <see cref="Open"/>).
    /// </summary>
    public long TryFold(in FoldKey key, DateTimeOffset now, out bool firstRepeat)
    {
        firstRepeat = false;
        if (!_open.TryGetValue(key, out Fold? fold) || now >= fold.ClosesAt)
        {
            return 0;
        }

        if (!fold.ReportDue)
        {
            fold.ReportDue = firstRepeat = true;
            _due.Enqueue(fold, fold.EventId);
        }

        return fold.EventId;
    }

    /// <summary>Makes a newly recorded event foldable, replacing an identical one whose window closed.</summary>
    public void Open(ImmuneEvent recorded)
    {
        var fold = new Fold(FoldKey.Of(recorded), recorded.Id, recorded.CreatedAt + window);
        _open[fold.Key] = fold;
        _recorded.Enqueue(fold);
    }

    /// <summary>Stops folding into an event whose severity changed: later publishes at the old severity are new events.</summary>
    public void Close(ImmuneEvent before)
    {
        FoldKey key = FoldKey.Of(before);
        if (_open.TryGetValue(key, out Fold? fold) && fold.EventId == before.Id)
        {
            _open.Remove(key);
        }
    }

    /// <summary>
    /// Forgets the events whose window closed by <paramref name="now"/> or that leave the store (ids below
    /// <paramref name="firstRetainedId"/>), and takes the reports due for either reason, oldest first.
    /// </summary>
    public void TakeClosed(DateTimeOffset now, long firstRetainedId, List<Fold> reports)
    {
        while (_due.TryPeek(out Fold? fold, out _) && (fold.ClosesAt <= now || fold.EventId < firstRetainedId))
        {
            _due.Dequeue();
            fold.ReportDue = false;
            reports.Add(fold);
        }

        while (_recorded.TryPeek(out Fold? fold) && (fold.ClosesAt <= now || fold.EventId < firstRetainedId))
        {
            _recorded.Dequeue();
            if (_open.TryGetValue(fold.Key, out Fold? current) && ReferenceEquals(current, fold))
            {
                _open.Remove(fold.Key);
            }
        }
    }

    /// <summary>Takes every pending report, oldest first, and forgets everything (disposal).</summary>
    public void TakeAll(List<Fold> reports)
    {
        TakeClosed(DateTimeOffset.MaxValue, long.MaxValue, reports);
    }
}

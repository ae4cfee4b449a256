namespace Immune.Delivery;

/// <summary>
/// The envelopes the delivery loop has taken from the queue and is delivering, with their results so far. The loop
/// claims results in order, lock-free (<see cref="TryClaim"/>), so that a stats snapshot taken meanwhile counts every
/// result already final; disposal that gives up takes the rest at once (<see cref="Abandon"/>). Claim and abandonment
/// meet on one compare-and-swap, so each envelope is reported by exactly one side.
/// </summary>
/// <remarks>Everything but <see cref="TryClaim"/> runs under the pipeline's lock.</remarks>
internal sealed class BatchInHand(int capacity)
{
    private const int Abandoned = int.MinValue;

    private readonly PendingEnvelope[] _items = new PendingEnvelope[capacity];
    private readonly Settlement[] _results = new Settlement[capacity];
    private int _claimed; // results before it are final; the loop moves it by CAS, disposal swaps it to Abandoned

    /// <summary>Gets how many envelopes are in hand; 0 between batches.</summary>
    public int Count { get; private set; }

    public PendingEnvelope this[int index] => _items[index];

    /// <summary>Gets how many results are final (0 between batches). The loop moves it meanwhile: read it once per snapshot.</summary>
    private int Claimed => Count > 0 ? Math.Max(0, Volatile.Read(ref _claimed)) : 0;

    /// <summary>Gets the oldest envelope in hand whose result is not final yet, if any.</summary>
    public bool TryPeekUnclaimed(out PendingEnvelope item)
    {
        int claimed = Claimed;
        item = claimed < Count ? _items[claimed] : default;
        return claimed < Count;
    }

    /// <summary>Takes up to the capacity from the queue, in sequence order, those before <paramref name="before"/> only; returns how many.</summary>
    public int Take(DeliveryQueue queue, long before = long.MaxValue)
    {
        int count = 0;
        while (count < _items.Length && queue.TryPeek(out PendingEnvelope next) && next.Sequence < before)
        {
            queue.TryDequeue(out _items[count]);
            count++;
        }

        Count = count;
        Volatile.Write(ref _claimed, 0);
        return count;
    }

    /// <summary>Takes envelopes read back from the spool, in sequence order (at most the capacity); returns how many.</summary>
    public int Take(ReadOnlySpan<PendingEnvelope> items)
    {
        int count = Math.Min(items.Length, _items.Length);
        items[..count].CopyTo(_items);
        Count = count;
        Volatile.Write(ref _claimed, 0);
        return count;
    }

    /// <summary>
    /// Records <paramref name="delivery"/> as the result of the next <paramref name="count"/> envelopes. Returns
    /// <see langword="false"/> when disposal has abandoned the batch: then it counted and reported them, not the loop.
    /// </summary>
    public bool TryClaim(int count, in Settlement delivery, out PendingEnvelope first)
    {
        int from = Volatile.Read(ref _claimed);
        first = default;
        if (from == Abandoned)
        {
            return false;
        }

        for (int i = from; i < from + count; i++)
        {
            _results[i] = delivery;
        }

        first = _items[from];
        return Interlocked.CompareExchange(ref _claimed, from + count, from) == from;
    }

    /// <summary>Claims what is left of the batch with one result (after a fault in the loop).</summary>
    public bool TryClaimRest(in Settlement delivery, out PendingEnvelope first, out int rest)
    {
        int claimed = Volatile.Read(ref _claimed);
        first = default;
        rest = Count - claimed;
        return claimed != Abandoned && TryClaim(rest, delivery, out first);
    }

    /// <summary>
    /// Adds the final results to <paramref name="tally"/>: all of them when the batch is done, else those claimed so far.
    /// Returns how many it counted: one reading of a counter the loop moves meanwhile, for the caller to use again.
    /// </summary>
    public int CountClaimed(ref DeliveryTally tally)
    {
        int claimed = Claimed;
        for (int i = 0; i < claimed; i++)
        {
            tally.Add(_results[i].Outcome);
        }

        return claimed;
    }

    /// <summary>Settles a delivered batch into <paramref name="tally"/> and empties the hand.</summary>
    public void Settle(ref DeliveryTally tally)
    {
        CountClaimed(ref tally);
        Count = 0;
    }

    /// <summary>
    /// Gives up on the batch: claimed results count as they are (the loop reports them); the rest is returned, with
    /// the oldest of it, for the caller to count and report as dropped. Empties the hand.
    /// </summary>
    public int Abandon(ref DeliveryTally tally, out PendingEnvelope first)
    {
        first = default;
        if (Count == 0)
        {
            return 0;
        }

        int claimed = Interlocked.Exchange(ref _claimed, Abandoned);
        for (int i = 0; i < claimed; i++)
        {
            tally.Add(_results[i].Outcome);
        }

        int rest = Count - claimed;
        if (rest > 0)
        {
            first = _items[claimed];
        }

        Count = 0;
        return rest;
    }
}

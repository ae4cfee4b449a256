using System.Diagnostics.CodeAnalysis;

namespace Immune.Delivery;

/// <summary>
/// The bounded delivery queue: first in, first out by sequence, so the stream sees record order. CRITICAL and other
/// envelopes wait in two FIFO lanes only to decide what is shed: when the queue is full the oldest non-CRITICAL envelope
/// goes first, and a CRITICAL one only when nothing else is left. A publish's envelopes are admitted and shed together.
/// Not thread-safe: the pipeline guards it with its lock.
/// </summary>
/// <remarks>
/// <see cref="System.Threading.Channels"/> offers only drop-oldest/drop-newest over one lane, which cannot express
/// "shed INFO and WARNING before any CRITICAL" with one shared capacity; two lanes of structs under the pipeline's lock
/// can, with no allocation per envelope.
/// </remarks>
internal sealed class DeliveryQueue(int capacity)
{
    private readonly Queue<PendingEnvelope> _critical = new();
    private readonly Queue<PendingEnvelope> _other = new();

    public int Count => _critical.Count + _other.Count;

    /// <summary>Gets the smallest sequence waiting, or <see langword="null"/> when empty.</summary>
    public long? OldestSequence => (_critical.TryPeek(out var c), _other.TryPeek(out var o)) switch
    {
        (true, true) => Math.Min(c.Sequence, o.Sequence),
        (true, false) => c.Sequence,
        (false, true) => o.Sequence,
        _ => null,
    };

    /// <summary>
    /// Queues one envelope; when full, sheds to make room (possibly <paramref name="item"/> itself). Returns how many
    /// envelopes were shed, and the first of them.
    /// </summary>
    public int Enqueue(in PendingEnvelope item, out PendingEnvelope firstShed) => Admit(item, default, 1, out firstShed);

    /// <summary>
    /// Queues a CRITICAL publish's two envelopes, its own (<paramref name="lead"/>) and its <c>immune.critical_event</c>
    /// (<paramref name="follower"/>), whole: room is made for both, by shedding whole publishes. Returns how many envelopes
    /// were shed, and the first of them.
    /// </summary>
    public int Enqueue(in PendingEnvelope lead, in PendingEnvelope follower, out PendingEnvelope firstShed) => Admit(lead, follower, 2, out firstShed);

    /// <summary>Empties the queue; returns how many envelopes it held, and the oldest of them in <paramref name="first"/>.</summary>
    public long Clear(out PendingEnvelope first)
    {
        first = default;
        long count = 0;
        while (TryDequeue(out PendingEnvelope item))
        {
            first = count++ == 0 ? item : first;
        }

        return count;
    }

    /// <summary>
    /// Makes room for <paramref name="count"/> envelopes of one publish, then queues them. The oldest INFO or WARNING
    /// envelope goes first; when only CRITICAL ones wait, a newcomer that is not CRITICAL is shed itself, and a CRITICAL
    /// one sheds the oldest CRITICAL publish whole (a lead and its follower together; a follower whose lead the loop
    /// took already goes alone). A publish larger than the whole capacity (two envelopes in a queue of one) is admitted
    /// into an empty queue rather than lost.
    /// </summary>
    private int Admit(in PendingEnvelope first, in PendingEnvelope second, int count, out PendingEnvelope firstShed)
    {
        firstShed = default;
        int shed = 0;
        while (Count + count > capacity && Count > 0)
        {
            PendingEnvelope victim;
            if (_other.Count > 0)
            {
                victim = _other.Dequeue();
            }
            else if (!first.IsCritical)
            {
                firstShed = shed == 0 ? first : firstShed; // only CRITICAL envelopes wait: they outrank the newcomer
                return shed + count;
            }
            else
            {
                victim = _critical.Dequeue();
                if (victim.Leads && _critical.TryPeek(out PendingEnvelope next) && next.Sequence == victim.Sequence + 1)
                {
                    _critical.Dequeue(); // its critical event goes with it: never a page for an event no view counts
                    firstShed = shed == 0 ? victim : firstShed;
                    shed++;
                }
            }

            firstShed = shed == 0 ? victim : firstShed;
            shed++;
        }

        Queue<PendingEnvelope> lane = first.IsCritical ? _critical : _other;
        lane.Enqueue(first);
        if (count == 2)
        {
            lane.Enqueue(second);
        }

        return shed;
    }

    public bool TryDequeue([MaybeNullWhen(false)] out PendingEnvelope item)
    {
        if (!TryPeek(out item))
        {
            return false;
        }

        (item.IsCritical ? _critical : _other).Dequeue();
        return true;
    }

    /// <summary>Gets the envelope <see cref="TryDequeue"/> would take next: the smallest sequence waiting.</summary>
    public bool TryPeek([MaybeNullWhen(false)] out PendingEnvelope item)
    {
        bool hasCritical = _critical.TryPeek(out var c);
        bool hasOther = _other.TryPeek(out var o);
        if (hasCritical && (!hasOther || c.Sequence < o.Sequence))
        {
            item = c;
            return true;
        }

        if (hasOther)
        {
            item = o;
            return true;
        }

        item = default;
        return false;
    }
}
